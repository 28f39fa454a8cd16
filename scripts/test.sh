#!/usr/bin/env bash
# The whole test suite: setup, lint, format check, types, import layers, pytest (extra args
# passed through), then the frontend's own tests when it has any. Stops at the first failing step.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

step() { printf '\n== %s\n' "$*"; }

# Empty directories are not in git, so lint only those that exist.
py_paths=()
for d in app tests bench; do
    [[ -d $d ]] && py_paths+=("$d")
done

step "ruff check"
.venv/bin/ruff check "${py_paths[@]}"
step "ruff format --check"
.venv/bin/ruff format --check "${py_paths[@]}"
step "mypy app"
.venv/bin/mypy app
step "lint-imports (imports point down)"
.venv/bin/lint-imports --no-cache pyproject.toml
step "pytest"
.venv/bin/pytest -q -m "not browser" "$@"
step "pytest (browser)"
# A process of its own, so a database of its own: these tests count what the demo draws.
.venv/bin/pytest -q -m browser "$@"

if [[ -f frontend/package.json ]] &&
    .venv/bin/python -c 'import json, sys; sys.exit("test" not in json.load(open(sys.argv[1])).get("scripts", {}))' frontend/package.json; then
    step "npm test"
    npm test --prefix frontend
fi
