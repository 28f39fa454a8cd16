"""The exercise calendar (app.domain.calendar): a year's or a month's exercises beside the
planned events, with the clashes the planning desk must see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api.deps import Session, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.permissions import scope_of
from app.auth.principal import Principal
from app.clock import utcnow
from app.domain import calendar

router = APIRouter(prefix="/api/calendar", tags=["planning"], route_class=Route)


@router.get(
    "", summary="Exercises (FTX, table-top, alarm tests) beside planned events, with clashes"
)
async def exercise_calendar(
    session: Session,
    principal: Annotated[Principal, Depends(require("calendar:read"))],
    year: Annotated[
        int | None, Query(ge=2000, le=2100, description="the Brussels year; by default this one")
    ] = None,
    month: Annotated[int | None, Query(ge=1, le=12, description="one month of it")] = None,
) -> Response:
    now = utcnow().astimezone(calendar.BRUSSELS)
    period = calendar.Period.of(year or now.year, month)
    return json_response(await calendar.calendar(session, period, scope_of(principal)))
