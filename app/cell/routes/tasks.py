"""A task's status, reported by its owner: the one write a partner's SPOC makes to the picture,
on the tasks of its organisation only. SITCEN's staff change the rest of a task with PATCH, as
every object (app.api.objects)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.api.deps import (
    IfMatch,
    Session,
    check_key_scope,
    if_match,
    parse_uuid,
    require,
    require_close_if_closing,
)
from app.api.responses import GeoJSONResponse, feature_response
from app.api.routing import Route
from app.auth.permissions import read_scope
from app.auth.principal import Principal
from app.domain import task

router = APIRouter(prefix="/api/tasks", tags=["tasks"], route_class=Route)


@router.post(
    "/{object_id}/status",
    response_class=GeoJSONResponse,
    summary="Report a task's status (If-Match: its version)",
    responses={
        412: {"description": "Stale version; body holds the current Feature"},
        409: {"description": "Status transition not allowed"},
    },
)
async def report_status(
    request: Request,
    session: Session,
    object_id: str,
    body: task.TaskStatusChange,
    principal: Annotated[Principal, Depends(require("task:status"))],
    if_match_header: IfMatch = None,
) -> Response:
    """Another organisation's task answers 404, word for word as an unknown one; cancelling
    takes `task:close`, as with PATCH."""
    oid = parse_uuid(object_id)
    expected = if_match(if_match_header, required=True)
    assert expected is not None
    await check_key_scope(request, principal, task.SPEC.entity.value, body)
    await require_close_if_closing(request, principal, task.SPEC, body)
    written = await task.set_status(
        session,
        oid,
        body,
        expected,
        principal.as_actor,
        read_scope(principal, task.Task),
    )
    await session.commit()
    return feature_response(written.feature)
