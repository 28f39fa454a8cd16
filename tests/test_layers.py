"""Imports point down (README, "How it is built"): routers over the runtime, alerting, the live
stream, identity, the domain and geography, each importing only what lies below it; the domain
knows no caller. The contracts are `[tool.importlinter]` in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.settings import PROJECT_ROOT


def test_every_import_points_down_the_layers() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache", "pyproject.toml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
