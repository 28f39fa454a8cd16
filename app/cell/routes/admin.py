"""The lists administrators keep for the crisis cell: activation phases and activation
templates. SITCEN staff read them (the dashboard offers them); administrators change them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.deps import Session, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.cell import phases, templates

phases_router = APIRouter(
    prefix="/api/activation-phases", tags=["activation phases"], route_class=Route
)
templates_router = APIRouter(
    prefix="/api/activation-templates", tags=["activation templates"], route_class=Route
)

PhaseReader = Annotated[Principal, Depends(require("phases:read"))]
PhaseAdmin = Annotated[Principal, Depends(require("phases:manage"))]
TemplateReader = Annotated[Principal, Depends(require("activation_templates:read"))]
TemplateAdmin = Annotated[Principal, Depends(require("activation_templates:manage"))]


@phases_router.get("", summary="Activation phases, in order (?active=true: those offered)")
async def list_phases(session: Session, _: PhaseReader, active: bool = False) -> Response:
    rows = await phases.listing(session, active_only=active)
    return json_response({"phases": [phases.phase_json(p) for p in rows]})


@phases_router.get("/{code}", summary="An activation phase")
async def read_phase(session: Session, code: str, _: PhaseReader) -> Response:
    return json_response(phases.phase_json(await phases.get(session, code)))


@phases_router.post("", status_code=201, summary="Add an activation phase")
async def create_phase(session: Session, body: phases.PhaseIn, admin: PhaseAdmin) -> Response:
    row = await phases.create(session, body, admin.as_actor)
    await session.commit()
    return json_response(
        phases.phase_json(row), 201, {"Location": f"/api/activation-phases/{row.code}"}
    )


@phases_router.patch("/{code}", summary="Rename, reorder, deactivate an activation phase")
async def change_phase(
    session: Session, code: str, body: phases.PhasePatch, admin: PhaseAdmin
) -> Response:
    row = await phases.change(session, code, body, admin.as_actor)
    await session.commit()
    return json_response(phases.phase_json(row))


@phases_router.delete("/{code}", status_code=204, summary="Delete a phase no activation is in")
async def delete_phase(session: Session, code: str, _: PhaseAdmin) -> Response:
    await phases.remove(session, code)
    await session.commit()
    return Response(status_code=204)


@templates_router.get("", summary="Activation templates (?active=true: those offered)")
async def list_templates(session: Session, _: TemplateReader, active: bool = False) -> Response:
    rows = await templates.listing(session, active_only=active)
    return json_response({"templates": [templates.template_json(t) for t in rows]})


@templates_router.get("/{code}", summary="An activation template")
async def read_template(session: Session, code: str, _: TemplateReader) -> Response:
    return json_response(templates.template_json(await templates.get(session, code)))


@templates_router.post("", status_code=201, summary="Add an activation template")
async def create_template(
    session: Session, body: templates.TemplateIn, admin: TemplateAdmin
) -> Response:
    row = await templates.create(session, body, admin.as_actor)
    await session.commit()
    return json_response(
        templates.template_json(row), 201, {"Location": f"/api/activation-templates/{row.code}"}
    )


@templates_router.patch("/{code}", summary="Change an activation template")
async def change_template(
    session: Session, code: str, body: templates.TemplatePatch, admin: TemplateAdmin
) -> Response:
    row = await templates.change(session, code, body, admin.as_actor)
    await session.commit()
    return json_response(templates.template_json(row))


@templates_router.delete(
    "/{code}", status_code=204, summary="Delete a template no activation was opened from"
)
async def delete_template(session: Session, code: str, _: TemplateAdmin) -> Response:
    await templates.remove(session, code)
    await session.commit()
    return Response(status_code=204)
