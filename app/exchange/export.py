"""A list exported whole, as GeoJSON, CSV or KML, streamed: read through a server-side cursor
a chunk at a time (app.domain.objects.stream), each chunk encoded off the event loop
(app.cpu) and sent before the next is read. What the server holds at once is one chunk of
objects and its bytes, however long the list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from app import cpu
from app.domain import objects
from app.domain.objects import ListFilter
from app.domain.spec import EntitySpec
from app.exchange import csvrows, kml
from app.exchange.formats import Format

MEDIA_TYPES: dict[Format, str] = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "kml": kml.MEDIA_TYPE,
}
# What an Accept header names, for a client that asks by media type rather than ?format=.
ACCEPTED: dict[str, Format] = {
    "application/geo+json": "geojson",
    "application/json": "geojson",
    "text/csv": "csv",
    kml.MEDIA_TYPE: "kml",
}


def filename(spec: EntitySpec, fmt: Format, stamp: str) -> str:
    return f"sitcen-{spec.path}-{stamp}.{fmt}"


def _features_json(features: list[dict[str, Any]]) -> bytes:
    return b",".join(orjson.dumps(f) for f in features)


async def _encoded(
    chunks: AsyncIterator[list[dict[str, Any]]], encode: Callable[[list[dict[str, Any]]], bytes]
) -> AsyncIterator[bytes]:
    """Each chunk encoded in the CPU pool while the next is read from the database: at most
    two chunks in memory (and the bytes being sent), twice the work done at once."""
    pending: asyncio.Future[bytes] | None = None
    try:
        async for features in chunks:
            if pending is not None:
                yield await pending
            pending = asyncio.ensure_future(cpu.run(encode, features))
        if pending is not None:
            yield await pending
            pending = None
    finally:
        if pending is not None:  # the client went away: its last chunk is not waited for
            pending.cancel()


async def _geojson(chunks: AsyncIterator[bytes], head: int) -> AsyncIterator[bytes]:
    # `head`: the feed's head before the list was read; a client follows the changes from it.
    yield b'{"type":"FeatureCollection","head":%d,"features":[' % head
    first = True
    async for chunk in chunks:
        if chunk:
            yield chunk if first else b"," + chunk
            first = False
    yield b"]}"


async def _csv(spec: EntitySpec, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield csvrows.header(spec)
    async for chunk in chunks:
        yield chunk


def stream(
    session: AsyncSession,
    spec: EntitySpec,
    f: ListFilter,
    scope: ColumnElement[bool] | None,
    fmt: Format,
    *,
    chunk: int,
    head: int,
    title: str,
) -> AsyncIterator[bytes]:
    """The list `f` and `scope` select, newest first, as `fmt`'s bytes."""
    if fmt == "geojson":
        features = objects.stream(session, spec, f, scope, chunk)
        return _geojson(_encoded(features, _features_json), head)
    # The geometry as PostGIS wrote it (GeoJSON text), read in the encoder's thread.
    features = objects.stream(session, spec, f, scope, chunk, geometry=lambda text: text)
    if fmt == "csv":
        return _csv(spec, _encoded(features, lambda c: csvrows.encode(spec, c)))
    return kml.document(title, _encoded(features, lambda c: kml.placemarks(spec, c)))
