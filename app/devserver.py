"""Running `sitcen serve` as a child process until it answers: the one way tests and
benchmarks start a server, so that they run the options deployed (app.cli.cmd_serve)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from app.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(
    port: int,
    env: Mapping[str, str],
    log: Path | None = None,
    *,
    python_args: Sequence[str] = (),
    timeout: float = 60.0,
    log_level: str = "warning",
) -> subprocess.Popen[bytes]:
    """Start `sitcen serve` on 127.0.0.1:`port` and return once /api/health answers.

    `log`: where its output goes (else inherited); `python_args`: before `-m app.cli`, e.g. a
    profiler; `log_level`: "info" writes a line per request. A server that exits or stays
    silent past `timeout` raises, with its log's tail."""
    command = [sys.executable, *python_args, "-m", "app.cli", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", log_level]
    output = log.open("wb") if log else None
    process = subprocess.Popen(
        command, env=dict(env), cwd=PROJECT_ROOT, stdout=output, stderr=subprocess.STDOUT
    )
    health = f"http://127.0.0.1:{port}/api/health"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited{_tail(log)}")
        try:
            if httpx.get(health, timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server did not become healthy{_tail(log)}")


def _tail(log: Path | None) -> str:
    return f": {log.read_text(errors='replace')[-2000:]}" if log else ""
