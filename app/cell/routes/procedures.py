"""Procedure templates: read and started by hand by SITCEN's staff, kept by admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.deps import IfMatch, Session, if_match, require
from app.api.responses import GeoJSONResponse, feature_response, json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.cell import procedures
from app.cell.procedures import Start, TemplateCreate, TemplatePatch, template_json

router = APIRouter(prefix="/api/procedures", tags=["procedures"], route_class=Route)


@router.get("", summary="Standard procedure templates")
async def list_templates(
    session: Session,
    _: Annotated[Principal, Depends(require("procedures:read"))],
    active: bool | None = None,
) -> Response:
    rows = await procedures.list_templates(session, active=active)
    return json_response({"procedures": [template_json(t) for t in rows]})


@router.get("/{code}", summary="A standard procedure template")
async def read_template(
    session: Session, code: str, _: Annotated[Principal, Depends(require("procedures:read"))]
) -> Response:
    return json_response(template_json(await procedures.get_template(session, code)))


@router.post("", status_code=201, summary="Add a standard procedure template (admin)")
async def create_template(
    session: Session,
    body: TemplateCreate,
    admin: Annotated[Principal, Depends(require("procedures:manage"))],
) -> Response:
    template = await procedures.create_template(session, admin.as_actor, body)
    await session.commit()
    return json_response(
        template_json(template), 201, headers={"Location": f"/api/procedures/{template.code}"}
    )


@router.patch("/{code}", summary="Change a standard procedure template (admin)")
async def update_template(
    session: Session,
    code: str,
    body: TemplatePatch,
    admin: Annotated[Principal, Depends(require("procedures:manage"))],
    if_match_header: IfMatch = None,
) -> Response:
    expected = if_match(if_match_header, required=False)
    template = await procedures.update_template(session, admin.as_actor, code, body, expected)
    await session.commit()
    return json_response(template_json(template))


@router.delete("/{code}", status_code=204, summary="Remove a standard procedure template (admin)")
async def delete_template(
    session: Session, code: str, _: Annotated[Principal, Depends(require("procedures:manage"))]
) -> Response:
    await procedures.delete_template(session, code)
    await session.commit()
    return Response(status_code=204)


@router.post(
    "/{code}/start",
    status_code=201,
    response_class=GeoJSONResponse,
    summary="Start the procedure's checklist for a subject (once per subject)",
    responses={200: {"description": "Already started for this subject: the first checklist"}},
)
async def start(
    session: Session,
    code: str,
    body: Start,
    principal: Annotated[Principal, Depends(require("checklist:create"))],
) -> Response:
    written = await procedures.start_checklist(
        session,
        principal.as_actor,
        code,
        activation_id=body.activation_id,
        subject_entity=body.subject_entity,
        subject_id=body.subject_id,
    )
    await session.commit()
    return feature_response(
        written.feature,
        201 if written.created else 200,
        location=f"/api/checklists/{written.id}",
    )
