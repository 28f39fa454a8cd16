"""The annual figures: GET /api/stats?year=YEAR (JSON, or CSV with format=csv)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api.deps import Session, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.clock import utcnow
from app.reports import stats, stats_formats

router = APIRouter(prefix="/api/stats", tags=["reports"], route_class=Route)


@router.get(
    "",
    summary="The annual figures of a year (admins, coordinators, the High Official)",
    description="Counted by the calendar year in Europe/Brussels in which each object starts; "
    "objects flagged `exercise` are left out of the operational counts (docs/reports.md).",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
async def annual_figures(
    session: Session,
    _: Annotated[Principal, Depends(require("stats:read"))],
    year: Annotated[int, Query(description=f"from {stats.FIRST_YEAR} to next year")],
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",
) -> Response:
    table = await stats.annual_figures(session, year, now=utcnow())
    if format == "csv":
        return Response(
            stats_formats.as_csv(table),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="sitcen-figures-{year}.csv"'},
        )
    return json_response(table)
