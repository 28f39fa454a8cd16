"""HTTP/1.1 on a bare stream, for tests that must see connections themselves."""

from __future__ import annotations

import asyncio


async def read_message(reader: asyncio.StreamReader) -> bytes:
    """One request or answer framed by Content-Length: its head and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    return head + await reader.readexactly(length)
