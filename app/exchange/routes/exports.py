"""GET /api/exports/{collection}: a collection's list, whole, as GeoJSON, CSV or KML.

The same filters as the list (`GET /api/{collection}`, read by the same dependency) and the
same reading rights and scope: a partner exports what its list shows it, nothing more.
Read on the read database (SITCEN_READ_DATABASE_URL) when there is one: an export is a
snapshot, and its X-Feed-Head is the head of the database it was read from, so following the
changes from there misses nothing.

No `from __future__ import annotations` here: FastAPI reads the per-collection filter
dependency from the annotations of the endpoint functions built below."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import StreamingResponse

from app.api.deps import ReadSession, require
from app.api.objects import filter_query
from app.api.routing import Route
from app.auth.permissions import read_scope
from app.auth.principal import Principal
from app.clock import utcnow
from app.domain import changes
from app.domain.objects import ListFilter
from app.domain.registry import SPECS
from app.domain.spec import EntitySpec
from app.exchange.export import ACCEPTED, MEDIA_TYPES, filename, stream
from app.exchange.formats import Format
from app.exchange.settings import get_exchange_settings
from app.geo.crs import OGC_URI, WGS84

PREFIX = "/api/exports"


def _format(asked: Format | None, accept: str | None) -> Format:
    """?format= first; else the first of ours the Accept header names; else GeoJSON."""
    if asked is not None:
        return asked
    for item in (accept or "").split(","):
        found = ACCEPTED.get(item.split(";")[0].strip().lower())
        if found is not None:
            return found
    return "geojson"


def _router(spec: EntitySpec) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["exports and imports"], route_class=Route)
    chunk = get_exchange_settings().export_chunk_rows

    @router.get(
        f"/{spec.path}",
        summary=f"Export {spec.path} (GeoJSON, CSV or KML), with the list's filters",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "The whole filtered list, newest first, streamed",
                "content": {m.split(";")[0]: {} for m in MEDIA_TYPES.values()},
            }
        },
    )
    async def export(
        session: ReadSession,
        principal: Annotated[Principal, Depends(require(f"{spec.entity.value}:read"))],
        f: Annotated[ListFilter, Depends(filter_query(spec))],
        format: Annotated[
            Format | None,
            Query(description="geojson, csv or kml; unset: as Accept asks, else geojson"),
        ] = None,
        accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> StreamingResponse:
        fmt = _format(format, accept)
        head = await changes.head(session)
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        body = stream(
            session,
            spec,
            f,
            read_scope(principal, spec.model),
            fmt,
            chunk=chunk,
            head=head,
            title=f"sitcen {spec.path} {stamp}",
        )
        headers = {
            "Content-Disposition": f'attachment; filename="{filename(spec, fmt, stamp)}"',
            # The feed's head before the list was read: follow the changes from there.
            "X-Feed-Head": str(head),
            "Cache-Control": "no-store",
        }
        if fmt == "geojson":
            headers["Content-Crs"] = f"<{OGC_URI[WGS84]}>"
        return StreamingResponse(body, media_type=MEDIA_TYPES[fmt], headers=headers)

    return router


ROUTERS = tuple(_router(spec) for spec in SPECS)
