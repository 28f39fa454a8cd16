"""Ticking a checklist's items. The checklists themselves are read, listed and shared through
the generic router (/api/checklists); a procedure is started by hand at
/api/procedures/{code}/start (app.cell.routes.procedures)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.deps import Session, parse_uuid, require
from app.api.responses import GeoJSONResponse, feature_response
from app.api.routing import Route
from app.auth.permissions import read_scope
from app.auth.principal import Principal
from app.cell import procedures
from app.cell.procedures import Tick
from app.domain.checklist import Checklist

router = APIRouter(prefix="/api/checklists", tags=["checklists"], route_class=Route)


@router.post(
    "/{object_id}/items/{key}",
    response_class=GeoJSONResponse,
    summary="Tick an item: done, not applicable (with a reason), or open again",
    responses={409: {"description": "Someone ticked it first: who, when"}},
)
async def tick(
    session: Session,
    object_id: str,
    key: str,
    body: Tick,
    principal: Annotated[Principal, Depends(require("checklist:update"))],
) -> Response:
    written = await procedures.tick(
        session,
        principal.as_actor,
        parse_uuid(object_id),
        key,
        body.state,
        body.reason,
        read_scope(principal, Checklist),
    )
    await session.commit()
    return feature_response(written.feature)
