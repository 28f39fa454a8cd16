"""Subscriptions: what a partner wants to be alerted about (area, object types, categories,
minimum severity). A partner manages its own; SITCEN staff any."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.deps import Session, parse_uuid, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.clock import utcnow
from app.errors import not_found
from app.partners import service as partners
from app.partners.access import acting_for, is_partner
from app.partners.models import Subscription
from app.partners.schemas import SubscriptionIn, SubscriptionPatch

router = APIRouter(prefix="/api/subscriptions", tags=["subscriptions"], route_class=Route)
Manager = Annotated[Principal, Depends(require("subscriptions:manage"))]


async def _owned(session: Session, principal: Principal, sub_id: str) -> Subscription:
    """The subscription, if the caller may manage it. Another partner's answers exactly as an
    unknown id does: naming its organisation, or merely answering differently, would tell a
    partner that it exists and whose it is."""
    ident = parse_uuid(sub_id)
    sub = await partners.get_subscription(session, ident)
    if is_partner(principal) and sub.organisation != principal.organisation:
        raise not_found("subscription", ident)
    return sub


@router.get("", summary="Subscriptions (a partner sees its own)")
async def list_subscriptions(
    session: Session, principal: Manager, organisation: str | None = None
) -> Response:
    org = principal.organisation if is_partner(principal) else organisation
    rows = await partners.subscriptions(session, org)
    return json_response({"subscriptions": [partners.subscription_json(s) for s in rows]})


@router.post("", status_code=201, summary="Subscribe a partner to an area and kinds of objects")
async def add_subscription(session: Session, body: SubscriptionIn, principal: Manager) -> Response:
    org = acting_for(principal, body.organisation)
    sub = await partners.add_subscription(session, org, body, principal.actor, utcnow())
    await session.commit()
    return json_response(
        partners.subscription_json(sub), 201, {"Location": f"/api/subscriptions/{sub.id}"}
    )


@router.get("/{subscription_id}", summary="A subscription")
async def read_subscription(session: Session, subscription_id: str, principal: Manager) -> Response:
    return json_response(
        partners.subscription_json(await _owned(session, principal, subscription_id))
    )


@router.patch("/{subscription_id}", summary="Rename, pause or retune a subscription")
async def change_subscription(
    session: Session, subscription_id: str, body: SubscriptionPatch, principal: Manager
) -> Response:
    sub = await _owned(session, principal, subscription_id)
    sub = await partners.change_subscription(session, sub, body, principal.actor, utcnow())
    await session.commit()
    return json_response(partners.subscription_json(sub))


@router.delete("/{subscription_id}", status_code=204, summary="Remove a subscription")
async def remove_subscription(
    session: Session, subscription_id: str, principal: Manager
) -> Response:
    sub = await _owned(session, principal, subscription_id)
    await session.delete(sub)
    await session.commit()
    return Response(status_code=204)
