"""CAP ingest: a received CAP 1.2 alert becomes an incident (or, with ?entity=zone, a zone)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.alerts import cap
from app.alerts.ingest import Target, ingest
from app.api.deps import Session, forbid, require
from app.api.responses import feature_response
from app.api.routing import Route
from app.auth.permissions import may
from app.auth.principal import Principal
from app.domain.enums import Entity, ZoneKind

router = APIRouter(prefix="/api/cap", tags=["alerts"], route_class=Route)


@router.post(
    "",
    status_code=201,
    summary="Ingest a CAP 1.2 alert as an incident or a zone",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {cap.MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
    responses={
        200: {"description": "Already received (same identifier): the first object"},
        400: {"description": "Not well-formed XML, or a DTD / entities (refused)"},
        422: {"description": "A CAP field is wrong; `errors` names each"},
    },
)
async def ingest_cap(
    request: Request,
    session: Session,
    principal: Annotated[Principal, Depends(require("incident:create"))],
    entity: Entity = Entity.incident,
    kind: ZoneKind | None = None,
) -> Response:
    if entity not in (Entity.incident, Entity.zone):
        raise cap.malformed("entity: a CAP alert becomes an incident or a zone")
    action = f"{entity.value}:create"
    if not may(principal, action) or (
        principal.entities is not None and entity.value not in principal.entities
    ):
        raise await forbid(request, principal, action, f"{principal.actor} may not {action}")
    message = cap.parse(await request.body())
    written = await ingest(session, message, Target(entity, kind), principal)
    await session.commit()
    path = "incidents" if entity == Entity.incident else "zones"
    return feature_response(
        written.feature,
        201 if written.created else 200,
        location=f"/api/{path}/{written.id}",
        notes=written.notes,
    )
