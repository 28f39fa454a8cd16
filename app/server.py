"""The HTTP protocol `sitcen serve` runs: uvicorn's httptools protocol with a bound on the
request head (the request line and headers).

httptools (llhttp) sets no limit on a head and uvicorn adds none: a client could send
megabytes of headers, all held in memory, on as many connections as it likes. Past
`SITCEN_MAX_HEADER_BYTES` this answers 431 (RFC 6585) as a problem, before the app sees the
request, and closes the connection. uvicorn's other protocol, h11, has such a bound but parses
in Python, several times slower per request.
"""

from __future__ import annotations

from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.errors import PROBLEM_MEDIA_TYPE, headers_too_large

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
