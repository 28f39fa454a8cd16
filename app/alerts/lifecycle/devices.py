"""Users' devices that take Web Push: subscribing, removing, listing one's own.

A subscription belongs to the user who made it on the device and receives the alerts addressed
to that user's organisation (app.alerts.lifecycle.service.push_deliveries). A push service's
endpoint names one browser profile: when another user subscribes the same browser, the row
passes to them, so a device never receives the alerts of a user who is no longer on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import PushSubscription
from app.alerts.schemas import PushSubscriptionIn
from app.errors import not_found, validation_problem

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def check_endpoint(endpoint: str, hosts: Sequence[str], allow_http_loopback: bool) -> None:
    """RFC 8030 §8: a push service is reached over HTTPS, here one of the browsers' own push
    services (`hosts`, a host or any under it; empty: any). Plain HTTP only to this machine,
    and only where the setting allows it (a local push service in tests)."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if allow_http_loopback and parts.scheme in ("http", "https") and host in LOOPBACK:
        return
    if parts.scheme != "https" or not host:
        msg = "a push service's endpoint is an https:// URL"
    elif hosts and not any(host == h or host.endswith("." + h) for h in hosts):
        msg = f"not a known push service: {host} (SITCEN_ALERTS_PUSH_HOSTS)"
    else:
        return
    raise validation_problem([{"loc": ["body", "endpoint"], "msg": msg}])


async def subscribe(
    session: AsyncSession, user_id: uuid.UUID, body: PushSubscriptionIn, now: datetime
) -> tuple[PushSubscription, bool]:
    """The device's subscription, made or replaced (same endpoint); whether it is new."""
    row = await session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == body.endpoint).with_for_update()
    )
    created = row is None
    if row is None:
        row = PushSubscription(endpoint=body.endpoint, created_at=now)
        session.add(row)
    row.user_id = user_id
    row.p256dh, row.auth = body.keys.p256dh, body.keys.auth
    row.language = body.language.value
    row.label = body.label
    row.active = True
    if not created:
        row.last_error, row.last_error_at = None, None
    await session.flush()
    return row, created


async def mine(session: AsyncSession, user_id: uuid.UUID) -> list[PushSubscription]:
    return list(
        (
            await session.scalars(
                select(PushSubscription)
                .where(PushSubscription.user_id == user_id)
                .order_by(PushSubscription.created_at)
            )
        ).all()
    )


async def remove(session: AsyncSession, user_id: uuid.UUID, ident: uuid.UUID) -> None:
    """Another user's device answers exactly as an unknown one."""
    row = await session.get(PushSubscription, ident, with_for_update=True)
    if row is None or row.user_id != user_id:
        raise not_found("push subscription", ident)
    await session.delete(row)


def subscription_json(s: PushSubscription) -> dict[str, Any]:
    """What the user reads of their device: never the keys."""
    return {
        "id": str(s.id),
        "endpoint": s.endpoint,
        "language": s.language,
        "label": s.label,
        "active": s.active,
        "created_at": s.created_at.isoformat(),
        "last_success_at": s.last_success_at.isoformat() if s.last_success_at else None,
        "last_error_at": s.last_error_at.isoformat() if s.last_error_at else None,
        "last_error": s.last_error,
    }
