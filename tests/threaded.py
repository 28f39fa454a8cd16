"""A small ASGI app served by uvicorn in a thread of the test process, as a partner's or a
browser vendor's service would run beside sitcen: a webhook receiver, a push service."""

from __future__ import annotations

import threading
import time

import uvicorn
from starlette.types import ASGIApp

from app.devserver import free_port


class ThreadedServer:
    """`app` on a free port of 127.0.0.1, in a daemon thread: start() returns once it listens."""

    def __init__(self, app: ASGIApp, what: str) -> None:
        self.port = free_port()
        self._what = what
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert time.monotonic() < deadline, f"{self._what} did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
