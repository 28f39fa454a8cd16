"""Exercise runs: followed and controlled by the exercise controllers (pause, resume, speed,
stop); the after-action report, with the players' response times, for those who evaluate
(the controllers and the High Official)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from app.api.deps import ReaderLanguage, Session, parse_uuid, require, runtime_of
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.clock import utcnow
from app.exercises import report, service

router = APIRouter(prefix="/api/exercise-runs", tags=["exercises"], route_class=Route)
Controller = Annotated[Principal, Depends(require("exercises:control"))]
Evaluator = Annotated[Principal, Depends(require("exercises:report"))]


@router.get("", summary="Runs, latest first (a scenario's with `scenario`)")
async def listing(
    session: Session,
    principal: Controller,
    scenario: Annotated[str | None, Query(description="a scenario's id")] = None,
) -> Response:
    now = utcnow()
    scenario_id = parse_uuid(scenario, "scenario") if scenario else None
    rows = await service.runs(session, scenario_id)
    return json_response(
        {"runs": [await service.run_json(session, r, now, log=False) for r in rows]}
    )


@router.get("/{run_id:id}", summary="One run: its time, speed, injects and the calls to make")
async def one(session: Session, run_id: str, principal: Controller) -> Response:
    run = await service.get_run(session, parse_uuid(run_id, "run_id"))
    return json_response(await service.run_json(session, run, utcnow()))


@router.post(
    "/{run_id:id}/control",
    summary="Pause, resume, change the speed of (×1 to ×600) or stop a run",
    responses={409: {"description": "The action does not apply to the run as it is"}},
)
async def control(
    request: Request,
    session: Session,
    run_id: str,
    body: service.RunControl,
    principal: Controller,
) -> Response:
    now = utcnow()
    run = await service.control(
        session, parse_uuid(run_id, "run_id"), body, principal.as_actor, now
    )
    await session.commit()
    runtime_of(request).exercises.loop.wake.set()  # a new speed or a resume: a new next time
    return json_response(await service.run_json(session, run, now))


@router.get("/{run_id:id}/responses", summary="The players' response times per inject")
async def responses(session: Session, run_id: str, principal: Evaluator) -> Response:
    run = await service.get_run(session, parse_uuid(run_id, "run_id"))
    return json_response({"responses": report.as_json(await report.response_times(session, run))})


@router.get(
    "/{run_id:id}/responses.csv",
    summary="The players' response times per inject, as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def responses_csv(session: Session, run_id: str, principal: Evaluator) -> Response:
    run = await service.get_run(session, parse_uuid(run_id, "run_id"))
    body = report.as_csv(await report.response_times(session, run))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="exercise-{run.id}.csv"'},
    )


@router.get(
    "/{run_id:id}/report", summary="The after-action report (HTML)", response_class=HTMLResponse
)
async def report_html(
    session: Session, run_id: str, principal: Evaluator, language: ReaderLanguage
) -> HTMLResponse:
    _, _, data = await report.context(session, parse_uuid(run_id, "run_id"), language)
    return HTMLResponse(report.render_html(data))


@router.get(
    "/{run_id:id}/report.pdf",
    summary="The after-action report (PDF)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def report_pdf(
    session: Session, run_id: str, principal: Evaluator, language: ReaderLanguage
) -> Response:
    run, _, data = await report.context(session, parse_uuid(run_id, "run_id"), language)
    await session.close()  # printing takes a while: not while holding a connection
    pdf = await report.render_pdf(data)
    name = f"exercise-{run.id}-{language.value}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
