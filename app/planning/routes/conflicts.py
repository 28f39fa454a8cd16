"""Conflicts of planned events, demonstrations and zones in space and time (app.domain.conflict):
the list, computed from the picture as it stands, and the planning desk's acknowledgement."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field
from starlette.responses import Response

from app.api.deps import Session, parse_list, parse_time, require, time_query, values_query
from app.api.responses import GEOJSON, GeoJSONResponse, geojson_response
from app.api.routing import Route
from app.auth.permissions import scope_of
from app.auth.principal import Principal
from app.clock import utcnow
from app.domain import conflict
from app.domain.enums import EventKind, ZoneKind
from app.domain.schema import Props
from app.errors import validation_problem

router = APIRouter(prefix="/api/conflicts", tags=["planning"], route_class=Route)

KINDS = sorted(
    {k.value for k in EventKind}
    | {k.value for k in ZoneKind if k != ZoneKind.hotspot}
    | {conflict.DEMONSTRATION_KIND}
)
PAGE_MAX = 1000


class Acknowledgement(Props):
    objects: Annotated[list[uuid.UUID], Field(min_length=2, max_length=2)]
    note: conflict.Note


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit() or len(cursor) > 9:
        raise validation_problem(
            [{"loc": ["query", "cursor"], "msg": "the page to read, as a next link gives"}]
        )
    return int(cursor)


@router.get(
    "",
    summary="Conflicts: planned events, demonstrations and zones overlapping in space and time",
    response_class=GeoJSONResponse,
)
async def list_conflicts(
    request: Request,
    session: Session,
    principal: Annotated[Principal, Depends(require("conflicts:read"))],
    start: Annotated[str | None, time_query("conflicts whose overlap ends after this")] = None,
    end: Annotated[str | None, time_query("conflicts whose overlap starts before this")] = None,
    kind: Annotated[
        str | None,
        values_query("kinds, either object's (event or zone kinds, demonstration)", KINDS),
    ] = None,
    municipality: Annotated[
        str | None, Query(description="NIS codes, comma-separated: the overlap lies in one")
    ] = None,
    police_zone: Annotated[
        str | None,
        Query(description="police zone numbers, comma-separated: the overlap lies in one"),
    ] = None,
    exercise: Annotated[
        bool, Query(description="conflicts between exercise objects instead of real ones")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
    cursor: Annotated[
        str | None, Query(description="the page to read, as a next link gives")
    ] = None,
) -> Response:
    f = conflict.ConflictFilter(
        start=parse_time(start, "start"),
        end=parse_time(end, "end"),
        kinds=parse_list(kind, "kind", set(KINDS)),
        municipality=parse_list(municipality, "municipality"),
        police_zone=parse_list(police_zone, "police_zone"),
        exercise=exercise,
    )
    if f.start is not None and f.end is not None and f.end < f.start:
        raise validation_problem([{"loc": ["query", "end"], "msg": "must not be before start"}])
    offset = _offset(cursor)
    found, more = await conflict.find(session, f, scope_of(principal), limit, offset)
    links = [{"rel": "self", "href": str(request.url), "type": GEOJSON}]
    if more:
        href = str(request.url.include_query_params(cursor=str(offset + limit)))
        links.append({"rel": "next", "href": href, "type": GEOJSON})
    body = {
        "type": "FeatureCollection",
        "features": [c.feature() for c in found],
        "links": links,
        "numberReturned": len(found),
    }
    return geojson_response(body)


@router.post(
    "/acknowledge",
    summary="Acknowledge a conflict with a note (e.g. the route agreed with the police zone)",
    response_class=GeoJSONResponse,
)
async def acknowledge(
    session: Session,
    body: Acknowledgement,
    principal: Annotated[Principal, Depends(require("conflicts:acknowledge"))],
) -> Response:
    x, y = body.objects
    found = await conflict.acknowledge(
        session, x, y, body.note, principal.as_actor, scope_of(principal), utcnow()
    )
    await session.commit()
    return geojson_response(found.feature())
