"""Answering a page: the holder of a seat (or SITCEN for them) acknowledges it, then says
whether they are in the room, taking part remotely, or declined."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from starlette.responses import Response

from app.api.deps import Session, parse_uuid, require, runtime_of
from app.api.responses import feature_response
from app.api.routing import Route
from app.auth.permissions import scope_of
from app.auth.principal import Principal
from app.cell import paging
from app.clock import utcnow
from app.domain.enums import Presence
from app.domain.schema import Input

router = APIRouter(prefix="/api/positions", tags=["positions"], route_class=Route)
# The page's push notification acknowledges with the token it carries: no login, as the
# alerts' acknowledgement links (app.alerts.routes.alerts.ack_link_router).
ack_link_router = APIRouter(include_in_schema=False, route_class=Route)


class PageAckIn(Input):
    token: Annotated[str, Field(min_length=1, max_length=500)]


class PresenceIn(Input):
    presence: Literal["present", "remote", "declined"]


@router.post("/{object_id}/acknowledge", summary="Acknowledge a page (the holder, or SITCEN)")
async def acknowledge(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("position:acknowledge"))],
) -> Response:
    written = await paging.acknowledge(
        session, parse_uuid(object_id), principal.as_actor, scope_of(principal), utcnow()
    )
    await session.commit()
    return feature_response(written.feature)


@router.post("/{object_id}/presence", summary="Present, remote or declined (the holder, or SITCEN)")
async def presence(
    session: Session,
    object_id: str,
    body: PresenceIn,
    principal: Annotated[Principal, Depends(require("position:presence"))],
) -> Response:
    written = await paging.set_presence(
        session,
        parse_uuid(object_id),
        Presence(body.presence),
        principal.as_actor,
        scope_of(principal),
        utcnow(),
    )
    await session.commit()
    return feature_response(written.feature)


@ack_link_router.post(paging.PAGE_ACK_PATH)
async def pushed_acknowledge(request: Request, session: Session, body: PageAckIn) -> Response:
    """The "Acknowledge" action of a page's push notification: the seat moves to
    `acknowledged` by the user whose device it reached (409 once answered)."""
    written = await paging.acknowledge_pushed(
        session, body.token, runtime_of(request).settings.secret_key, utcnow()
    )
    await session.commit()
    return feature_response(written.feature)
