# Shortcuts for the scripts in scripts/ (which work without make: `bash scripts/run.sh`).
.PHONY: run test lint fmt clean-local

PY_PATHS := $(wildcard app tests bench)
LOCAL_DIR := $(or $(SITCEN_LOCAL_DIR),.local)

# Extra arguments: make run ARGS="--port 8001"
run:
	bash scripts/run.sh $(ARGS)

test:
	bash scripts/test.sh $(ARGS)

lint:
	.venv/bin/ruff check $(PY_PATHS)
	.venv/bin/ruff format --check $(PY_PATHS)
	.venv/bin/mypy app

fmt:
	.venv/bin/ruff format $(PY_PATHS)
	.venv/bin/ruff check --fix $(PY_PATHS)

# Stops the local cluster first: deleting the files of a running server leaves it holding the port.
clean-local:
	if [ -x .venv/bin/python ] && [ -d "$(LOCAL_DIR)" ]; then \
		.venv/bin/python -c 'import sys; from pathlib import Path; from app.localdb import stop_cluster; stop_cluster(Path(sys.argv[1]))' "$(LOCAL_DIR)"; \
	fi
	rm -rf "$(LOCAL_DIR)"
