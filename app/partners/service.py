"""Partners as alerting sees them: SPOCs, channels with their state, subscriptions."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_or_404
from app.domain import organisations
from app.domain.visibility import Scope
from app.domain.zone import Zone
from app.errors import not_found, validation_problem
from app.geo.validation import parse_geometry
from app.partners.models import AreaKind, Channel, Contact, Subscription
from app.partners.schemas import (
    ChannelIn,
    ChannelPatch,
    ContactIn,
    ContactPatch,
    SubscriptionIn,
    SubscriptionPatch,
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _stamp(row: Any, actor: str, now: datetime, *, new: bool) -> None:
    if new:
        row.created_at, row.created_by = now, actor
    row.updated_at, row.updated_by = now, actor


def contact_json(c: Contact) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "organisation": c.organisation,
        "name": c.name,
        "role": c.role,
        "language": c.language,
        "email": c.email,
        "rank": c.rank,
        "on_duty_from": c.on_duty_from.isoformat() if c.on_duty_from else None,
        "on_duty_to": c.on_duty_to.isoformat() if c.on_duty_to else None,
        "active": c.active,
        "updated_at": _iso(c.updated_at),
        "updated_by": c.updated_by,
    }


def channel_json(c: Channel, secret: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(c.id),
        "organisation": c.organisation,
        "kind": c.kind,
        "url": c.url,
        "enabled": c.enabled,
        "state": {
            "last_success_at": _iso(c.last_success_at),
            "last_error_at": _iso(c.last_error_at),
            "last_error": c.last_error,
            "healthy": c.last_error_at is None
            or (c.last_success_at is not None and c.last_success_at > c.last_error_at),
        },
        "updated_at": _iso(c.updated_at),
        "updated_by": c.updated_by,
    }
    if secret:
        body["secret"] = c.secret  # only when created or rotated
    return body


def subscription_json(s: Subscription) -> dict[str, Any]:
    return {
        "id": str(s.id),
        "organisation": s.organisation,
        "name": s.name,
        "entities": s.entities,
        "categories": s.categories,
        "min_severity": s.min_severity,
        "parent_entities": s.parent_entities,
        "area_kind": s.area_kind,
        "zone_id": str(s.zone_id) if s.zone_id else None,
        "zone_kinds": s.zone_kinds,
        "codes": s.codes,
        "polygon": s.polygon,
        "active": s.active,
        "created_at": _iso(s.created_at),
        "created_by": s.created_by,
        "updated_at": _iso(s.updated_at),
        "updated_by": s.updated_by,
    }


async def contacts(session: AsyncSession, org: str) -> list[Contact]:
    rows = await session.scalars(
        select(Contact).where(Contact.organisation == org).order_by(Contact.rank, Contact.name)
    )
    return list(rows.all())


async def channels(session: AsyncSession, org: str) -> list[Channel]:
    rows = await session.scalars(
        select(Channel).where(Channel.organisation == org).order_by(Channel.created_at)
    )
    return list(rows.all())


async def subscriptions(session: AsyncSession, org: str | None) -> list[Subscription]:
    query = select(Subscription).order_by(Subscription.organisation, Subscription.created_at)
    if org is not None:
        query = query.where(Subscription.organisation == org)
    return list((await session.scalars(query)).all())


async def add_contact(
    session: AsyncSession, org: str, body: ContactIn, actor: str, now: datetime
) -> Contact:
    await require_organisation(session, org)
    contact = Contact(id=uuid.uuid4(), organisation=org, **body.model_dump(mode="python"))
    contact.language = body.language.value
    _stamp(contact, actor, now, new=True)
    session.add(contact)
    await session.flush()
    return contact


async def _owned(session: AsyncSession, model: Any, org: str, row_id: uuid.UUID, what: str) -> Any:
    row = await session.get(model, row_id, with_for_update=True)
    if row is None or row.organisation != org:
        raise not_found(what, row_id)
    return row


async def change_contact(
    session: AsyncSession,
    org: str,
    contact_id: uuid.UUID,
    body: ContactPatch,
    actor: str,
    now: datetime,
) -> Contact:
    contact: Contact = await _owned(session, Contact, org, contact_id, "contact")
    for name, value in body.model_dump(exclude_unset=True, mode="python").items():
        setattr(contact, name, value.value if hasattr(value, "value") else value)
    if (contact.on_duty_from is None) != (contact.on_duty_to is None):
        raise validation_problem(
            [{"loc": ["body", "on_duty_to"], "msg": "on_duty_from and on_duty_to go together"}]
        )
    _stamp(contact, actor, now, new=False)
    return contact


async def remove(session: AsyncSession, model: Any, org: str, row_id: uuid.UUID, what: str) -> None:
    row = await _owned(session, model, org, row_id, what)
    await session.delete(row)


async def add_channel(
    session: AsyncSession, org: str, body: ChannelIn, actor: str, now: datetime
) -> Channel:
    await require_organisation(session, org)
    channel = Channel(
        id=uuid.uuid4(),
        organisation=org,
        kind=body.kind.value,
        url=body.url,
        secret=new_secret() if body.kind == "webhook" else None,
        enabled=body.enabled,
    )
    _stamp(channel, actor, now, new=True)
    session.add(channel)
    await session.flush()
    return channel


async def change_channel(
    session: AsyncSession,
    org: str,
    channel_id: uuid.UUID,
    body: ChannelPatch,
    actor: str,
    now: datetime,
) -> Channel:
    channel: Channel = await _owned(session, Channel, org, channel_id, "channel")
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(channel, name, value)
    _stamp(channel, actor, now, new=False)
    return channel


async def rotate_secret(
    session: AsyncSession, org: str, channel_id: uuid.UUID, actor: str, now: datetime
) -> Channel:
    channel: Channel = await _owned(session, Channel, org, channel_id, "channel")
    if channel.kind != "webhook":
        raise validation_problem(
            [{"loc": ["path", "channel_id"], "msg": "only webhooks have a secret"}]
        )
    channel.secret = new_secret()
    _stamp(channel, actor, now, new=False)
    return channel


async def _check_zone(session: AsyncSession, org: str, zone_id: uuid.UUID) -> None:
    """A partner subscribes only to a zone it may see (its rules would never match one it may
    not). A hidden zone is refused in the words of an unknown one: otherwise the answer would
    tell the partner that the zone exists."""
    query = select(Zone.id).where(Zone.id == zone_id)
    visible = Scope(organisation=org, partner=True).clause(Zone)
    if visible is not None:
        query = query.where(visible)
    if await session.scalar(query) is None:
        raise validation_problem(
            [{"loc": ["body", "zone_id"], "msg": f"no zone {zone_id} that {org!r} may see"}]
        )


async def _check_area(
    session: AsyncSession, org: str, body: SubscriptionIn
) -> dict[str, Any] | None:
    if body.area_kind == AreaKind.zone and body.zone_id is not None:
        await _check_zone(session, org, body.zone_id)
    if body.area_kind == AreaKind.polygon and body.polygon is not None:
        parsed = await parse_geometry(
            body.polygon,
            allowed=frozenset({"Polygon", "MultiPolygon"}),
            loc=("body", "polygon"),
        )
        return parsed.geojson
    return None


async def add_subscription(
    session: AsyncSession, org: str, body: SubscriptionIn, actor: str, now: datetime
) -> Subscription:
    await require_organisation(session, org)
    polygon = await _check_area(session, org, body)
    sub = Subscription(
        id=uuid.uuid4(),
        organisation=org,
        name=body.name,
        entities=[e.value for e in body.entities],
        categories=body.categories,
        min_severity=body.min_severity.value if body.min_severity else None,
        parent_entities=body.parent_entities,
        area_kind=body.area_kind.value,
        zone_id=body.zone_id if body.area_kind == AreaKind.zone else None,
        zone_kinds=[k.value for k in body.zone_kinds or []] or None,
        codes=body.codes
        if body.area_kind in (AreaKind.municipalities, AreaKind.police_zones)
        else None,
        polygon=polygon,
        active=body.active,
    )
    _stamp(sub, actor, now, new=True)
    session.add(sub)
    await session.flush()
    return sub


async def get_subscription(session: AsyncSession, sub_id: uuid.UUID) -> Subscription:
    return await get_or_404(session, Subscription, sub_id, "subscription")


async def change_subscription(
    session: AsyncSession, sub: Subscription, body: SubscriptionPatch, actor: str, now: datetime
) -> Subscription:
    for name, value in body.model_dump(exclude_unset=True, mode="json").items():
        setattr(sub, name, value)
    _stamp(sub, actor, now, new=False)
    return sub


async def require_organisation(session: AsyncSession, code: str) -> None:
    """422 naming `organisation` unless `code` names one."""
    await organisations.require_known(session, [code], ["body", "organisation"])


def new_secret() -> str:
    """A webhook channel's signing secret (app.alerts.channels.webhook signs with it)."""
    return "whsec_" + secrets.token_urlsafe(32)
