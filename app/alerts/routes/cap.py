"""CAP in: a received CAP 1.2 message makes, changes or ends an incident or a zone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.alerts.lifecycle import cap
from app.alerts.lifecycle.ingest import Target, receive
from app.api.deps import Session, forbid, require
from app.api.responses import feature_response
from app.api.routing import Route
from app.auth.permissions import may
from app.auth.principal import Principal
from app.domain.enums import Entity, ZoneKind
from app.domain.registry import BY_ENTITY

router = APIRouter(prefix="/api/cap", tags=["alerts"], route_class=Route)


@router.post(
    "",
    status_code=201,
    summary="Receive a CAP 1.2 message: an Alert makes an incident or a zone, an Update or "
    "Cancel changes or ends the object made from the message it references",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {cap.MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
    responses={
        200: {
            "description": "An Update or Cancel applied (or recorded, see `notes`), or a "
            "message received before: the object as it stands"
        },
        400: {"description": "Not well-formed XML, or a DTD / entities (refused)"},
        404: {"description": "A Cancel naming no message received here"},
        409: {
            "description": "The object changed since the feed wrote it, and the message would "
            "overwrite that change (`feed_version`, `current_version`, `fields`); or an "
            "identifier already received with another `sent`"
        },
        410: {"description": "The object made from the referenced message was deleted"},
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
    async def authorise(action: str) -> None:
        kind_of_object = action.split(":", 1)[0]
        if not may(principal, action) or (
            principal.entities is not None and kind_of_object not in principal.entities
        ):
            raise await forbid(request, principal, action, f"{principal.actor} may not {action}")

    if entity not in (Entity.incident, Entity.zone):
        raise cap.malformed("entity: a CAP alert becomes an incident or a zone")
    await authorise(f"{entity.value}:create")
    message = cap.parse(await request.body())
    received = await receive(session, message, Target(entity, kind), principal, authorise)
    await session.commit()
    written = received.written
    return feature_response(
        written.feature,
        201 if written.created else 200,
        location=f"/api/{BY_ENTITY[received.entity].path}/{written.id}",
        notes=received.notes,
    )
