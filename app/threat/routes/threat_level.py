"""The national threat level: what stands (now, or at a past instant), the history of its
settings, and setting it.

Every role reads it, partners and dispatch systems included: OCAM/CUTA's levels are public
national information, and a partner plans with them. It is set by SITCEN's staff (the watch,
the coordinator, the High Official) and administrators: the level is OCAM/CUTA's decision, and
recording it is transcribing that decision, with its reference, as soon as it arrives, by
whoever is on duty at that hour (docs/threat-level.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.alerts.settings import get_alert_settings
from app.api.deps import Session, parse_time, parse_uuid, require, time_query, uuid_query
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.clock import utcnow
from app.domain import changes, objects
from app.domain.enums import ThreatSector
from app.domain.objects import ListFilter
from app.domain.threat_level import SPEC, record_of, standing
from app.domain.visibility import Scope
from app.threat.service import ThreatLevelIn, set_level

router = APIRouter(prefix="/api/threat-level", tags=["threat level"], route_class=Route)

Reader = Annotated[Principal, Depends(require("threat_level:read"))]
# Every setting is shared with every partner by construction (app.domain.threat_level): read
# whole for every reader. A caller's own scope would only hide it from a dispatch system, whose
# scope is what it created itself.
PUBLIC = Scope()


@router.get("", summary="The threat level that stands (now, or at `at`): general and specific")
async def current(
    session: Session,
    _: Reader,
    at: Annotated[
        str | None, time_query("the level as it stood then (replays, SITREPs of the past)")
    ] = None,
) -> Response:
    when = parse_time(at, "at")
    head = await changes.head(session)
    found = await standing(session, when, PUBLIC)
    return json_response(
        {"at": when.isoformat() if when else None, "head": head, **found.as_json()}
    )


@router.get("/history", summary="Every setting of the threat level, newest first")
async def history(
    session: Session,
    _: Reader,
    sector: Annotated[ThreatSector | None, Query(description="one sector's settings")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, uuid_query("the page to read, as next_cursor gives")] = None,
) -> Response:
    after = parse_uuid(cursor, "cursor") if cursor else None
    f = ListFilter(exercise=False, kind=[sector.value] if sector else None)
    page, more = await objects.page(session, SPEC, f, None, limit, after)
    settings = [record_of(x) for x in page]
    return json_response(
        {"settings": settings, "next_cursor": settings[-1]["id"] if more else None}
    )


@router.post(
    "",
    status_code=201,
    summary="Record a threat level OCAM/CUTA set, and alert every partner with it",
    responses={422: {"description": "A field is wrong, named in `errors`; nothing is recorded"}},
)
async def set_(
    session: Session,
    body: ThreatLevelIn,
    principal: Annotated[Principal, Depends(require("threat_level:create"))],
) -> Response:
    done = await set_level(session, body, principal.as_actor, get_alert_settings(), utcnow())
    await session.commit()
    sent = done.alert
    answer = {
        "setting": done.record,
        "previous": done.previous,
        "alert": None
        if sent is None
        else {
            "id": str(sent.alert.id),
            "ref": sent.alert.ref,
            "msg_type": sent.alert.msg_type,
            "organisations": [r.organisation for r in sent.recipients],
        },
        **(await standing(session, None, PUBLIC)).as_json(),
    }
    location = f"/api/threat_levels/{uuid.UUID(done.record['id'])}"
    return json_response(answer, 201, {"Location": location})
