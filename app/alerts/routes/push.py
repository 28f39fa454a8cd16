"""Web Push: the VAPID public key for the browser, and the caller's own devices.

A logged-in user subscribes the device they are on; the subscription is theirs alone (listed,
removed by them; another user's answers as an unknown one) and receives the alerts addressed to
their organisation, or, for a SITCEN user, the pages of the crisis cell's seats they hold
(app.cell.paging.push_pages). API keys have no device. The notification's "Acknowledge" action
posts its signed token to `/alerts/ack/push` (app.alerts.routes.alerts) or, for a page, to
`/cell/ack/push` (app.cell.routes.positions); neither needs a login.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.alerts.channels.push import vapid_key
from app.alerts.lifecycle import devices
from app.alerts.schemas import PushSubscriptionIn
from app.alerts.settings import get_alert_settings
from app.api.deps import Session, parse_uuid, require, runtime_of
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.clock import utcnow
from app.errors import conflict, forbidden

router = APIRouter(prefix="/api/push", tags=["push"], route_class=Route)
Subscriber = Annotated[Principal, Depends(require("push:subscribe"))]


def _user(principal: Principal) -> Principal:
    if principal.kind != "user" or principal.id is None:
        raise forbidden("a push subscription is a user's device: an API key has none")
    return principal


@router.get("/key", summary="The VAPID public key to subscribe a device with (RFC 8292)")
async def public_key(request: Request, principal: Subscriber) -> Response:
    settings = runtime_of(request).settings
    key = vapid_key(settings.vapid_private_key, settings.vapid_subject)
    return json_response(
        {"enabled": key is not None, "public_key": key.public_key if key else None}
    )


@router.get("/subscriptions", summary="The caller's devices that take push notifications")
async def list_devices(session: Session, principal: Subscriber) -> Response:
    user = _user(principal)
    assert user.id is not None
    rows = await devices.mine(session, user.id)
    return json_response({"subscriptions": [devices.subscription_json(s) for s in rows]})


@router.post(
    "/subscriptions",
    status_code=201,
    summary="Subscribe this device to push notifications of the caller's alerts",
)
async def add_device(
    request: Request, session: Session, body: PushSubscriptionIn, principal: Subscriber
) -> Response:
    user = _user(principal)
    assert user.id is not None
    settings = runtime_of(request).settings
    if vapid_key(settings.vapid_private_key, settings.vapid_subject) is None:
        raise conflict("web push is not configured on this server (SITCEN_VAPID_PRIVATE_KEY)")
    alert_settings = get_alert_settings()
    devices.check_endpoint(
        body.endpoint, alert_settings.push_hosts, alert_settings.push_allow_http_loopback
    )
    row, created = await devices.subscribe(session, user.id, body, utcnow())
    await session.commit()
    return json_response(
        devices.subscription_json(row),
        201 if created else 200,
        {"Location": f"/api/push/subscriptions/{row.id}"},
    )


@router.delete(
    "/subscriptions/{push_subscription_id}",
    status_code=204,
    summary="Stop push notifications to one of the caller's devices",
)
async def remove_device(
    session: Session, push_subscription_id: str, principal: Subscriber
) -> Response:
    user = _user(principal)
    assert user.id is not None
    await devices.remove(session, user.id, parse_uuid(push_subscription_id))
    await session.commit()
    return Response(status_code=204)
