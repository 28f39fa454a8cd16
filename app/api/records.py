"""The crisis cell's records beyond their collections: the check of an activation's decision
chain, and the promotion of a discipline's logbook entry into the multidisciplinary logbook."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.deps import Session, parse_uuid, require
from app.api.responses import GeoJSONResponse, feature_response, json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.domain import activation, decision_chain, logbook_entry, objects

router = APIRouter(tags=["decisions", "logbook"], route_class=Route)


@router.get(
    "/api/activations/{object_id}/decisions/verify",
    summary="Recompute an activation's chain of decisions; name the first broken entry",
)
async def verify_decisions(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("decision:verify"))],
) -> Response:
    oid = parse_uuid(object_id)
    await objects.get(session, activation.SPEC, oid, None)  # 404 for an unknown activation
    verdict = await decision_chain.verify(session, oid)
    return json_response(verdict.as_dict())


@router.post(
    "/api/logbook/{object_id}/promote",
    status_code=201,
    response_class=GeoJSONResponse,
    summary="Copy a discipline's logbook entry into the multidisciplinary logbook",
    responses={409: {"description": "Already promoted: the problem names the copy"}},
)
async def promote(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("logbook_entry:promote"))],
) -> Response:
    written = await logbook_entry.promote(session, parse_uuid(object_id), principal.as_actor)
    await session.commit()
    return feature_response(written.feature, 201, location=f"/api/logbook/{written.id}")
