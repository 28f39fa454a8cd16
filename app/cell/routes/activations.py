"""Running a GCC activation: open it (from a template, about a subject), change its phase,
page its cell, read who is reached, close it with a debrief."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from pydantic import Field
from starlette.responses import Response

from app.alerts.channels.push import vapid_key
from app.api.deps import IfMatch, Session, if_match, parse_uuid, require, runtime_of
from app.api.responses import feature_response, json_response
from app.api.routing import Route
from app.auth.permissions import scope_of
from app.auth.principal import Principal
from app.cell import paging, workflow
from app.clock import utcnow
from app.domain.schema import Input

# The Web Push notifications of pages under way (a reference keeps each task alive).
_PUSHING: set[asyncio.Task[int]] = set()

router = APIRouter(prefix="/api/activations", tags=["activations"], route_class=Route)


class PageIn(Input):
    """The seats to page; none named: every seat not reached yet."""

    positions: Annotated[list[uuid.UUID], Field(min_length=1, max_length=200)] | None = None


def _version(header: str | None) -> int:
    expected = if_match(header, required=True)
    assert expected is not None
    return expected


@router.post(
    "/open",
    status_code=201,
    summary="Open an activation, from a template (its positions) and about a subject",
)
async def open_activation(
    request: Request,
    session: Session,
    body: workflow.OpenIn,
    principal: Annotated[Principal, Depends(require("activation:open"))],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> Response:
    fingerprint = hashlib.sha256(await request.body()).hexdigest() if idempotency_key else None
    opened = await workflow.open_activation(
        session,
        body,
        principal.as_actor,
        scope_of(principal),
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
    )
    await session.commit()
    return json_response(
        {
            "activation": opened.activation.feature,
            "positions": [p.feature for p in opened.positions],
        },
        201 if opened.activation.created else 200,
        {"Location": f"/api/activations/{opened.activation.id}"},
    )


@router.post(
    "/{object_id}/phase",
    summary="Move an activation to another phase, saying why (If-Match: its version)",
    responses={412: {"description": "Stale version; body holds the current Feature"}},
)
async def change_phase(
    session: Session,
    object_id: str,
    body: workflow.PhaseIn,
    principal: Annotated[Principal, Depends(require("activation:phase"))],
    if_match_header: IfMatch = None,
) -> Response:
    written = await workflow.change_phase(
        session,
        parse_uuid(object_id),
        body,
        _version(if_match_header),
        principal.as_actor,
        scope_of(principal),
    )
    await session.commit()
    return feature_response(written.feature)


@router.post(
    "/{object_id}/close",
    summary="Close an activation with its debrief (If-Match: its version)",
    responses={412: {"description": "Stale version; body holds the current Feature"}},
)
async def close(
    session: Session,
    object_id: str,
    body: workflow.CloseIn,
    principal: Annotated[Principal, Depends(require("activation:close"))],
    if_match_header: IfMatch = None,
) -> Response:
    written = await workflow.close_with_debrief(
        session,
        parse_uuid(object_id),
        body,
        _version(if_match_header),
        principal.as_actor,
        scope_of(principal),
    )
    await session.commit()
    return feature_response(written.feature)


@router.post("/{object_id}/page", summary="Page the cell's holders (all not reached, or some)")
async def page(
    request: Request,
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("activation:page"))],
    body: PageIn | None = None,
) -> Response:
    runtime = runtime_of(request)
    result = await paging.page_cell(
        session,
        parse_uuid(object_id),
        body.positions if body else None,
        principal.as_actor,
        scope_of(principal),
        runtime.alert_settings,
        utcnow(),
    )
    await session.commit()
    paging.announce(runtime.hub, result)
    if result.pushes:
        # The paged users' devices, without holding the answer back on a slow push service.
        key = vapid_key(runtime.settings.vapid_private_key, runtime.settings.vapid_subject)
        task = asyncio.create_task(
            paging.push_pages(
                runtime.sessions,
                result,
                key,
                runtime.alert_settings,
                runtime.settings.secret_key,
                utcnow(),
            )
        )
        _PUSHING.add(task)
        task.add_done_callback(_PUSHING.discard)
    return json_response(result.as_json())


@router.get("/{object_id}/cell", summary="The cell: who is reached, who is missing")
async def cell(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("activation:read"))],
) -> Response:
    return json_response(await paging.board(session, parse_uuid(object_id), scope_of(principal)))
