"""`sitcen watch`, the reference client: one line per change, resumes from its state file."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from app.settings import PROJECT_ROOT
from tests.conftest import PASSWORD, Server
from tests.realtime.conftest import TIMEOUT, write, write_zone

LINE_TIMEOUT = TIMEOUT


class WatchProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, server: Server, state_file: Path) -> WatchProcess:
        env = {**os.environ, "SITCEN_PASSWORD": PASSWORD}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli",
            "watch",
            "--url",
            server.ws_url,
            "--username",
            "op",
            "--state-file",
            str(state_file),
            "--entity",
            "incident",
            env=env,
            cwd=PROJECT_ROOT,
            # As from a terminal: a shell's background job (`… &`) starts with SIGINT ignored,
            # and an ignored SIGINT is inherited, so Ctrl-C would never reach the client.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        watch = cls(process)
        await watch.log_line_with("# live from seq")
        return watch

    async def log_line_with(self, text: str) -> str:
        assert self.process.stderr is not None
        async with asyncio.timeout(LINE_TIMEOUT):
            while True:
                line = (await self.process.stderr.readline()).decode()
                assert line, "sitcen watch exited"
                if text in line:
                    return line

    async def change_lines(self, count: int) -> list[str]:
        assert self.process.stdout is not None
        async with asyncio.timeout(LINE_TIMEOUT):
            return [(await self.process.stdout.readline()).decode() for _ in range(count)]

    async def stop(self, how: signal.Signals = signal.SIGINT) -> None:
        """Ctrl-C as a user would, or SIGTERM as a service manager would."""
        self.process.send_signal(how)
        await self.log_line_with("# stopped")
        assert await self.process.wait() == 0


async def test_watch_prints_one_line_per_change_and_resumes_from_its_state_file(
    server: Server, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    state = tmp_path / "watch-seq"
    watch = await WatchProcess.start(server, state)
    first = [await write(client, title=f"watch line {i}") for i in range(2)]
    lines = await watch.change_lines(2)
    for line, created in zip(lines, first, strict=True):
        assert f"incident created {created['properties']['ref']} 'watch line" in line
        assert "(fire, moderate, reported) by op" in line
    last_seq = int(lines[-1].split()[0])
    await watch.stop()
    assert state.read_text().strip() == str(last_seq)

    missed = [await write(client, title=f"while away {i}") for i in range(2)]
    await write_zone(client, "not an incident")
    after = await write(client, title="after the zone")

    watch = await WatchProcess.start(server, state)
    lines = await watch.change_lines(3)
    await watch.stop(signal.SIGTERM)
    refs = [line.split()[4] for line in lines]
    assert refs == [f["properties"]["ref"] for f in (*missed, after)]
    assert int(lines[0].split()[0]) == last_seq + 1
