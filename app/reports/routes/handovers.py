"""The shift handover (docs/reports.md "Shift handover"): the one the watch is at, the history,
starting one, the outgoing team's notes, handing over, and the incoming team's
acknowledgement. SITCEN's own: partners have no access."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import Response

from app.api.deps import IfMatch, Session, if_match, parse_uuid, require, runtime_of
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.clock import utcnow
from app.domain.enums import HandoverStatus
from app.domain.schema import Time
from app.reports import handover
from app.reports.models import Handover
from app.reports.shifts import Shift

router = APIRouter(prefix="/api/handovers", tags=["handovers"], route_class=Route)


def _policy(request: Request) -> handover.ShiftPolicy:
    return handover.ShiftPolicy.of(runtime_of(request).settings)


def _answer(row: Handover, preview: dict[str, object] | None = None) -> Response:
    return json_response(handover.as_json(row, preview), headers={"ETag": f'"{row.version}"'})


@router.get("/current", summary="The handover the watch is at (or what it would be)")
async def current(
    request: Request,
    session: Session,
    principal: Annotated[Principal, Depends(require("handovers:read"))],
    preview: Annotated[
        bool, Query(description="with what a handover not handed over would hold now")
    ] = True,
) -> Response:
    answer = await handover.current(session, _policy(request), utcnow(), with_preview=preview)
    return json_response(answer)


@router.get("", summary="Handovers, latest shift first")
async def listing(
    session: Session,
    principal: Annotated[Principal, Depends(require("handovers:read"))],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    before: Annotated[Time | None, Query(description="shifts ending before this")] = None,
) -> Response:
    return json_response({"handovers": await handover.listing(session, limit, before)})


@router.get("/{handover_id:id}", summary="One handover (a draft shows what it would hand over now)")
async def one(
    session: Session,
    handover_id: str,
    principal: Annotated[Principal, Depends(require("handovers:read"))],
) -> Response:
    row = await handover.get(session, parse_uuid(handover_id, "handover_id"))
    preview = None
    if row.status == HandoverStatus.draft:
        preview = await handover.build(session, Shift(row.shift_start, row.shift_end), utcnow())
    return _answer(row, preview)


@router.post("", status_code=201, summary="Start the handover of a shift (a draft)")
async def start(
    request: Request,
    session: Session,
    body: handover.HandoverStart,
    principal: Annotated[Principal, Depends(require("handovers:write"))],
) -> Response:
    now = utcnow()
    row = await handover.start(session, _policy(request), body, principal.as_actor, now)
    preview = await handover.build(session, Shift(row.shift_start, row.shift_end), now)
    await session.commit()
    response = _answer(row, preview)
    response.status_code = 201
    return response


@router.patch(
    "/{handover_id:id}", summary="Change a draft's notes or teams (If-Match: its version)"
)
async def amend(
    session: Session,
    handover_id: str,
    body: handover.HandoverNotes,
    principal: Annotated[Principal, Depends(require("handovers:write"))],
    if_match_header: IfMatch = None,
) -> Response:
    expected = if_match(if_match_header, required=False)
    row = await handover.amend(
        session,
        parse_uuid(handover_id, "handover_id"),
        body,
        expected,
        principal.as_actor,
        utcnow(),
    )
    await session.commit()
    return _answer(row)


@router.post("/{handover_id:id}/hand-over", summary="Hand the shift over: frozen, into the logbook")
async def hand_over(
    request: Request,
    session: Session,
    handover_id: str,
    principal: Annotated[Principal, Depends(require("handovers:write"))],
    if_match_header: IfMatch = None,
) -> Response:
    expected = if_match(if_match_header, required=False)
    row = await handover.hand_over(
        session,
        _policy(request),
        parse_uuid(handover_id, "handover_id"),
        expected,
        principal.as_actor,
        utcnow(),
    )
    await session.commit()
    return _answer(row)


@router.post("/{handover_id:id}/acknowledge", summary="The incoming team acknowledges (once)")
async def acknowledge(
    session: Session,
    handover_id: str,
    body: handover.HandoverAcknowledgement,
    principal: Annotated[Principal, Depends(require("handovers:acknowledge"))],
) -> Response:
    row = await handover.acknowledge(
        session, parse_uuid(handover_id, "handover_id"), body, principal.as_actor, utcnow()
    )
    await session.commit()
    return _answer(row)
