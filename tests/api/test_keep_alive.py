"""An idle HTTP connection outlives the idle limit of common clients (httpx: 5 s), so the
client, not the server, closes it: a request sent on it is never lost to the server closing
it at the same moment."""

from __future__ import annotations

import asyncio

from tests.conftest import Server
from tests.rawhttp import read_message

REQUEST = b"GET /api/health HTTP/1.1\r\nHost: sitcen\r\n\r\n"


async def _answer(reader: asyncio.StreamReader) -> bytes:
    """The status line of the next answer."""
    return (await read_message(reader)).split(b"\r\n")[0]


async def test_an_idle_connection_is_kept_past_five_seconds(server: Server) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(REQUEST)
        assert await _answer(reader) == b"HTTP/1.1 200 OK"
        await asyncio.sleep(6)  # past uvicorn's default keep-alive (5 s)
        writer.write(REQUEST)
        assert await asyncio.wait_for(_answer(reader), 10) == b"HTTP/1.1 200 OK"
    finally:
        writer.close()
