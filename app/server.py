"""How `sitcen serve` runs uvicorn: its HTTP protocol, with a bound on the request head, and
its shutdown, graceful within a deadline.

The protocol is uvicorn's httptools protocol with a bound on the request head (the request
line and headers).
httptools (llhttp) sets no limit on a head and uvicorn adds none: a client could send
megabytes of headers, all held in memory, on as many connections as it likes. Past
`SITCEN_MAX_HEADER_BYTES` this answers 431 (RFC 6585) as a problem, before the app sees the
request, and closes the connection. uvicorn's other protocol, h11, has such a bound but parses
in Python, several times slower per request.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.errors import PROBLEM_MEDIA_TYPE, headers_too_large

log = logging.getLogger(__name__)

# After answering 431, what the client still sends is read and dropped for this long before the
# connection closes: closing with unread data would reset the connection, and the client could
# lose the answer before reading it (the "lingering close" of nginx and Apache).
LINGER_SECONDS = 2.0


def bounded_head(max_head_bytes: int) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, refusing a request head over `max_head_bytes`."""

    class BoundedHead(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._head_bytes = 0  # of the head being read, counted as it arrives
            self._in_body = False
            self._refused = False

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            in_head = not self._in_body
            if in_head:
                self._head_bytes += len(data)
            super().data_received(data)
            # Checked after parsing, so that a chunk ending a head and starting a body does not
            # count as head; a head still open past the limit is refused.
            if in_head and not self._in_body and self._head_bytes > max_head_bytes:
                self._refuse()

        def on_headers_complete(self) -> None:
            self._in_body = True
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._in_body = False
            self._head_bytes = 0
            super().on_message_complete()

        def _refuse(self) -> None:
            if self.transport.is_closing():
                return
            self._refused = True
            problem = headers_too_large(
                f"the request line and headers exceed {max_head_bytes} bytes"
            )
            body = orjson.dumps(problem.body())
            head = [b"HTTP/1.1 431 Request Header Fields Too Large\r\n"]
            head += [
                name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
            ]
            head += [
                f"content-type: {PROBLEM_MEDIA_TYPE}\r\n".encode(),
                f"content-length: {len(body)}\r\n".encode(),
                b"connection: close\r\n\r\n",
            ]
            self.transport.write(b"".join(head) + body)
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)

    return BoundedHead


# Drains the application before uvicorn's own shutdown (app.runtime.Runtime.drain), given the
# deadline in the event loop's time; None while the application has not started.
Drain = Callable[[float], Awaitable[None]]


class GracefulServer(uvicorn.Server):
    """uvicorn's server, whose shutdown (on SIGTERM or SIGINT) is, within `timeout` seconds:

    1. stop accepting: the listening socket is closed, so a proxy's next health check fails
       and new connections go to another instance;
    2. the application's drain: readiness answers 503, every WebSocket client gets the close
       code 1012 ("server restart, reconnect elsewhere with since") and the background
       workers finish the step under way (an alert delivery is sent and recorded);
    3. uvicorn's own: idle keep-alive connections are closed and the requests in flight are
       answered (each connection closed after its answer), for what remains of `timeout`;
       those still running then are cancelled;
    4. the application's lifespan ends (app.main): what still runs is cancelled, the pool
       closed.

    uvicorn's shutdown alone cuts WebSockets without a word to the application (1012, no
    reason) and waits for requests without bound unless told."""

    def __init__(
        self, config: uvicorn.Config, drain: Callable[[], Drain | None], timeout: float
    ) -> None:
        super().__init__(config)
        self._drain = drain
        self._timeout = timeout

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        drain = self._drain()
        if drain is not None:
            try:
                async with asyncio.timeout_at(deadline):
                    await drain(deadline)
            except TimeoutError:
                log.warning("shutdown: the WebSockets were not all closed in time")
            except Exception:
                # The rest of the shutdown must happen all the same.
                log.exception("shutdown: draining the application failed")
        # Typed as whole seconds, used as asyncio.wait_for's timeout: a float is what it takes.
        remaining = max(0.0, deadline - loop.time())
        self.config.timeout_graceful_shutdown = remaining  # type: ignore[assignment]
        await super().shutdown(sockets)
