"""Lean WebSocket clients for the benchmarks: hundreds of them share the 2-core machine with
the server they measure.

Each is websockets' own sans-I/O protocol (handshake, framing, automatic pong to WebSocket
pings, closing handshake) on a bare asyncio Protocol. websockets' asyncio client spent about
30 us of CPU per message (futures, an assembler, a reader task per connection); in one client
process that delays every later connection's reading, and the delay showed in the latencies
being measured. The arrival time is taken when the bytes arrive, before anything is parsed.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class Handler(Protocol):
    """What a benchmark does with one connection's events."""

    def opened(self, client: LeanClient) -> None:
        """The handshake is done and the hello sent."""

    def line(self, client: LeanClient, raw: bytes, now: float) -> None:
        """One sitcen message (a line of a text frame) that is not a sitcen ping."""

    def ended(self, code: int) -> None:
        """The connection is over: its close code, 1006 if it was lost, -1 if refused."""


class LeanClient(asyncio.Protocol):
    def __init__(self, url: str, hello: bytes, handler: Handler) -> None:
        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        self.ws = ClientProtocol(parse_uri(url), max_size=2**22)
        self.hello, self.handler = hello, handler
        self.fragments: list[bytes] = []
        self.transport: asyncio.Transport | None = None
        self.done = False

    def send_text(self, data: bytes) -> None:
        self.ws.send_text(data)
        self._flush()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.ws.send_request(self.ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        import time

        from websockets.frames import Frame, Opcode
        from websockets.http11 import Response

        now = time.time()
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Response):
                if self.ws.handshake_exc is not None:
                    self._end(-1)
                    return
                self.ws.send_text(self.hello)
                self.handler.opened(self)
            elif isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.CONT):
                self.fragments.append(bytes(event.data))
                if event.fin:
                    text = b"".join(self.fragments)
                    self.fragments.clear()
                    for raw in text.split(b"\n"):  # one sitcen message per line
                        if raw.startswith(b'{"type":"ping"'):
                            self.ws.send_text(b'{"type":"pong"}')
                        else:
                            self.handler.line(self, raw, now)
        self._flush()

    def _flush(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        for chunk in self.ws.data_to_send():
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()  # the protocol's signal: half-close, we are done

    def eof_received(self) -> None:
        self.ws.receive_eof()
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(self.ws.close_code or 1006)

    def _end(self, code: int) -> None:
        if self.done:
            return
        self.done = True
        if self.transport is not None:
            self.transport.close()
        self.handler.ended(code)


async def connect(url: str, hello: bytes, handler: Handler) -> None:
    """Open one client; a refused connection ends it with -1."""
    host, port = url.split("/")[2].split(":")
    try:
        await asyncio.get_running_loop().create_connection(
            lambda: LeanClient(url, hello, handler), host, int(port)
        )
    except OSError:
        handler.ended(-1)
