"""Hotspot fiches and their comparison (JSON, CSV, PDF), and extending a police measure.

The measures and evaluation notes themselves are objects with the generic routes of every
kind (/api/police_measures, /api/hotspot_notes: create, read, list, history)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app.api.deps import (
    IfMatch,
    ReaderLanguage,
    Session,
    check_key_scope,
    if_match,
    parse_time,
    parse_uuid,
    require,
    time_query,
)
from app.api.responses import GeoJSONResponse, feature_response, json_response
from app.api.routing import Route
from app.auth.permissions import read_scope, scope_of
from app.auth.principal import Principal
from app.clock import utcnow
from app.domain import police_measure
from app.domain.enums import Language
from app.reports import hotspot_exports, hotspots
from app.reports.hotspots import Period

router = APIRouter(prefix="/api/hotspots", tags=["hotspots"], route_class=Route)
measures_router = APIRouter(prefix="/api/police_measures", tags=["hotspots"], route_class=Route)

Reader = Annotated[Principal, Depends(require("hotspots:read"))]
From = Annotated[
    date | None,
    Query(
        alias="from",
        description="first day (YYYY-MM-DD, Brussels); its whole week counts. By default "
        f"{hotspots.DEFAULT_WEEKS} weeks before `to`",
    ),
]
To = Annotated[
    date | None,
    Query(
        alias="to",
        description="last day (YYYY-MM-DD, Brussels); its whole week counts. By default today",
    ),
]
At = Annotated[str | None, time_query("the time the measures' validity is told at; by default now")]
PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}}}
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


def _when(at: str | None) -> datetime:
    return parse_time(at, "at") or utcnow()


def _period(first: date | None, last: date | None, now: datetime) -> Period:
    return hotspots.period_of(first, last, now.astimezone(hotspots.BRUSSELS).date())


def _file(body: bytes | str, media_type: str, name: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _pdf(
    session: Session, render: Callable[[dict[str, Any]], Awaitable[bytes]], context: dict[str, Any]
) -> bytes:
    await session.close()  # drawing and printing take a while: not while holding a connection
    return await render(context)


@dataclass(frozen=True)
class Asked:
    """What a request for a fiche or the comparison asks: the weeks, the time the measures'
    validity is told at, the language of the labels (the JSON's values are codes)."""

    period: Period
    at: datetime
    language: Language


async def asked(
    language: ReaderLanguage,
    first: From = None,
    last: To = None,
    at: At = None,
) -> Asked:
    now = _when(at)
    return Asked(_period(first, last, now), now, language)


AskedDep = Annotated[Asked, Depends(asked)]


async def _comparison(session: Session, principal: Principal, a: Asked) -> dict[str, Any]:
    return await hotspots.comparison(session, a.period, scope_of(principal), a.at)


async def _fiche(session: Session, zone_id: str, principal: Principal, a: Asked) -> dict[str, Any]:
    return await hotspots.fiche(session, parse_uuid(zone_id), a.period, scope_of(principal), a.at)


@router.get("", summary="Every hotspot compared: incidents this period and the previous one")
async def comparison(session: Session, principal: Reader, a: AskedDep) -> Response:
    return json_response(await _comparison(session, principal, a))


@router.get("/export.csv", summary="The comparison as CSV", response_class=Response, responses=CSV)
async def comparison_csv(session: Session, principal: Reader, a: AskedDep) -> Response:
    text = hotspot_exports.comparison_csv(await _comparison(session, principal, a), a.language)
    name = f"hotspots-{a.period.first}-{a.period.last}.csv"
    return _file(text, "text/csv; charset=utf-8", name)


@router.get("/export.pdf", summary="The comparison as PDF", response_class=Response, responses=PDF)
async def comparison_pdf(session: Session, principal: Reader, a: AskedDep) -> Response:
    data = await _comparison(session, principal, a)
    context = hotspot_exports.comparison_context(data, a.language)
    pdf = await _pdf(session, hotspot_exports.comparison_pdf, context)
    return _file(pdf, "application/pdf", f"hotspots-{a.period.first}-{a.language.value}.pdf")


@router.get("/{zone_id}", summary="A hotspot's fiche")
async def fiche(session: Session, zone_id: str, principal: Reader, a: AskedDep) -> Response:
    return json_response(await _fiche(session, zone_id, principal, a))


@router.get(
    "/{zone_id}/export.csv",
    summary="A hotspot's fiche as CSV",
    response_class=Response,
    responses=CSV,
)
async def fiche_csv(session: Session, zone_id: str, principal: Reader, a: AskedDep) -> Response:
    data = await _fiche(session, zone_id, principal, a)
    name = f"{data['hotspot']['ref']}-{data['period']['from']}-{data['period']['to']}.csv"
    return _file(hotspot_exports.fiche_csv(data, a.language), "text/csv; charset=utf-8", name)


@router.get(
    "/{zone_id}/export.pdf",
    summary="A hotspot's fiche as PDF",
    response_class=Response,
    responses=PDF,
)
async def fiche_pdf(session: Session, zone_id: str, principal: Reader, a: AskedDep) -> Response:
    data = await _fiche(session, zone_id, principal, a)
    context = hotspot_exports.fiche_context(data, a.language)
    pdf = await _pdf(session, hotspot_exports.fiche_pdf, context)
    name = f"{data['hotspot']['ref']}-{a.language.value}.pdf"
    return _file(pdf, "application/pdf", name)


@measures_router.post(
    "/{object_id}/extend",
    response_class=GeoJSONResponse,
    summary="Extend a police measure in force (If-Match: its version)",
    responses={
        412: {"description": "Stale version; body holds the current Feature"},
        409: {"description": "The measure was revoked"},
    },
)
async def extend(
    request: Request,
    session: Session,
    object_id: str,
    body: police_measure.Extension,
    principal: Annotated[Principal, Depends(require("police_measure:update"))],
    if_match_header: IfMatch = None,
) -> Response:
    oid = parse_uuid(object_id)
    expected = if_match(if_match_header, required=True)
    assert expected is not None
    await check_key_scope(request, principal, police_measure.SPEC.entity.value, body)
    written = await police_measure.extend(
        session,
        oid,
        body,
        expected,
        principal.as_actor,
        read_scope(principal, police_measure.PoliceMeasure),
        utcnow(),
    )
    await session.commit()
    return feature_response(written.feature)
