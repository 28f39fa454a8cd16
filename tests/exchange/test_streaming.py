"""An export streams: read through a server-side cursor a chunk at a time and sent chunk by
chunk, never held whole (issue 17: "large exports stream, bounded memory")."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain import objects
from app.domain.objects import ListFilter
from app.domain.registry import BY_PATH
from app.exchange.export import stream
from app.exchange.formats import FORMATS, Format
from tests.conftest import Server, auth, incident
from tests.exchange.helpers import csv_rows, marker

COUNT, CHUNK = 120, 25
SPEC = BY_PATH["incidents"]


@pytest.fixture(scope="module")
async def many(server: Server) -> str:
    """COUNT incidents under one marker."""
    mark = marker()
    async with httpx.AsyncClient(base_url=server.url, headers=auth(server, "op")) as op:
        for start in range(0, COUNT, 20):
            answers = await asyncio.gather(
                *(
                    op.post("/api/incidents", json=incident(f"{mark} {i}"))
                    for i in range(start, start + 20)
                )
            )
            assert all(a.status_code == 201 for a in answers)
    return mark


async def _open_cursors(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT count(*) FROM pg_cursors")) or 0)


async def test_the_list_is_read_a_chunk_at_a_time_through_a_server_side_cursor(
    sessions: async_sessionmaker[AsyncSession], many: str
) -> None:
    sizes, open_while_reading = [], []
    async with sessions() as session:
        async for features in objects.stream(session, SPEC, ListFilter(q=many), None, CHUNK):
            sizes.append(len(features))
            open_while_reading.append(await _open_cursors(session))
    assert sum(sizes) == COUNT and max(sizes) == CHUNK and len(sizes) == -(-COUNT // CHUNK)
    # The rows not yet handed out stay in the database, behind an open cursor.
    assert all(n >= 1 for n in open_while_reading[:-1])


@pytest.mark.parametrize("fmt", FORMATS)
async def test_each_format_is_sent_chunk_by_chunk(
    sessions: async_sessionmaker[AsyncSession], many: str, fmt: Format
) -> None:
    pieces: list[bytes] = []
    async with sessions() as session:
        body = stream(session, SPEC, ListFilter(q=many), None, fmt, chunk=CHUNK, head=0, title="t")
        async for piece in body:
            pieces.append(piece)
    whole = b"".join(pieces)
    # A head (or header), one piece per chunk, and a tail: never the file in one piece.
    assert len([p for p in pieces if many.encode() in p]) == -(-COUNT // CHUNK)
    assert max(len(p) for p in pieces) < len(whole) / 3
    if fmt == "geojson":
        assert len(orjson.loads(whole)["features"]) == COUNT
    elif fmt == "csv":
        assert len(csv_rows(whole.decode())) == COUNT
    else:
        assert whole.count(b"<Placemark") == COUNT
