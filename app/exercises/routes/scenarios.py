"""Exercise scenarios: uploaded as JSON or YAML (docs/replay-and-exercises.md "Exercises"),
checked, kept; started as runs. The exercise controllers' (coordinators, administrators): a
scenario tells what is coming, which the players must not know."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from app.api.deps import Session, parse_uuid, require, runtime_of
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.clock import utcnow
from app.exercises import scenario as fmt
from app.exercises import service

router = APIRouter(prefix="/api/exercise-scenarios", tags=["exercises"], route_class=Route)
Controller = Annotated[Principal, Depends(require("exercises:control"))]
UPLOAD: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A scenario file, format sitcen-exercise/1 (docs/replay-and-exercises.md)",
        "content": {t: {"schema": {"type": "object"}} for t in fmt.MEDIA_TYPES},
    }
}


@router.get("", summary="Scenarios kept, newest first, and the examples shipped")
async def listing(session: Session, principal: Controller) -> Response:
    rows = await service.scenarios(session)
    return json_response(
        {
            "scenarios": [service.scenario_json(r) for r in rows],
            "examples": service.examples(),
        }
    )


@router.post(
    "",
    status_code=201,
    summary="Upload a scenario (JSON or YAML): checked, then kept",
    openapi_extra=UPLOAD,
    responses={415: {"description": "Neither JSON nor YAML"}},
)
async def upload(request: Request, session: Session, principal: Controller) -> Response:
    """422 names each problem by its place in the file (`injects[3].at`) and keeps nothing."""
    checked = await fmt.load(session, await request.body(), request.headers.get("content-type", ""))
    row = await service.store(session, checked, principal.as_actor, utcnow())
    await session.commit()
    return json_response(
        service.scenario_json(row, whole=True),
        201,
        {"Location": f"/api/exercise-scenarios/{row.id}"},
    )


@router.post("/examples/{name}", status_code=201, summary="Keep one of the example scenarios")
async def example(session: Session, name: str, principal: Controller) -> Response:
    row = await service.load_example(session, name, principal.as_actor, utcnow())
    await session.commit()
    return json_response(service.scenario_json(row, whole=True), 201)


@router.get("/{scenario_id:id}", summary="One scenario, whole")
async def one(session: Session, scenario_id: str, principal: Controller) -> Response:
    row = await service.get_scenario(session, parse_uuid(scenario_id, "scenario_id"))
    return json_response(service.scenario_json(row, whole=True))


@router.delete("/{scenario_id:id}", status_code=204, summary="Delete a scenario never played")
async def delete(session: Session, scenario_id: str, principal: Controller) -> Response:
    await service.delete_scenario(session, parse_uuid(scenario_id, "scenario_id"))
    await session.commit()
    return Response(status_code=204)


@router.post("/{scenario_id:id}/runs", status_code=201, summary="Start playing a scenario (a run)")
async def start(
    request: Request,
    session: Session,
    scenario_id: str,
    body: service.RunStart,
    principal: Controller,
) -> Response:
    now = utcnow()
    run = await service.start(
        session, parse_uuid(scenario_id, "scenario_id"), body, principal.as_actor, now
    )
    await session.commit()
    runtime_of(request).exercises.loop.wake.set()
    answer = await service.run_json(session, run, now)
    return json_response(answer, 201, {"Location": f"/api/exercise-runs/{run.id}"})
