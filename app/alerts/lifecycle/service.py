"""Alerts as stored: creating one (with its recipients and deliveries), acknowledging it,
reading it back, and the wire form shared by the API, the WebSocket and webhooks."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.enums import FALLBACK, AckVia, DeliveryStatus
from app.alerts.lifecycle.compose import AlertDraft
from app.alerts.models import Alert, Delivery, PushSubscription, Recipient
from app.alerts.settings import AlertSettings
from app.auth.models import User
from app.db import get_or_404, insert_many
from app.domain.base import uuid7
from app.errors import ProblemError, conflict, not_found, validation_problem
from app.partners.models import Channel, ChannelKind, Contact, Organisation

NOTIFY_CHANNEL = "sitcen_alerts"
LOCAL_TIME = ZoneInfo("Europe/Brussels")
_REF = text(
    "SELECT 'ALR-' || to_char(now() AT TIME ZONE 'Europe/Brussels', 'YYYY') || '-' "
    "|| lpad(nextval('alert_ref_seq')::text, 6, '0')"
)


def identifier(alert: Alert) -> str:
    """The CAP identifier: unique, stable, and free of the characters CAP forbids."""
    return f"BE-BRU-SITCEN-{alert.ref}"


async def notify(
    session: AsyncSession, kind: str, alert_id: uuid.UUID, organisation: str | None = None
) -> None:
    """Tell every instance, at commit, that an alert is `new`, that a partner's `state`
    changed (acknowledged, escalated, flagged), that its `delivery` states changed (seen
    by SITCEN only), or that a dead letter is to be sent again (`retry`). The push and the
    delivery workers listen; nothing is said if the transaction rolls back."""
    payload = f"{kind}:{alert_id}" + (f":{organisation}" if organisation else "")
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": NOTIFY_CHANNEL, "payload": payload},
    )


def on_duty(contact: Contact, now: datetime) -> bool:
    if not contact.active:
        return False
    start, end = contact.on_duty_from, contact.on_duty_to
    if start is None or end is None:
        return True
    local: time = now.astimezone(LOCAL_TIME).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # a night shift wraps midnight


def spoc_at(contacts: Sequence[Contact], level: int, now: datetime) -> Contact | None:
    """The SPOC an alert goes to at an escalation level: the on-duty ones in rank order."""
    reachable = [c for c in contacts if on_duty(c, now) and c.email]
    return reachable[level] if level < len(reachable) else None


async def all_organisations(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(Organisation.code).order_by("code"))).all())


async def contacts_of(session: AsyncSession, orgs: Sequence[str]) -> dict[str, list[Contact]]:
    rows = await session.scalars(
        select(Contact)
        .where(Contact.organisation.in_(orgs))
        .order_by(Contact.organisation, Contact.rank, Contact.name)
    )
    out: dict[str, list[Contact]] = defaultdict(list)
    for c in rows:
        out[c.organisation].append(c)
    return out


async def all_channels(session: AsyncSession) -> dict[str, list[Channel]]:
    rows = await session.scalars(select(Channel).where(Channel.enabled.is_(True)))
    out: dict[str, list[Channel]] = defaultdict(list)
    for c in rows:
        out[c.organisation].append(c)
    return out


async def channels_of(session: AsyncSession, orgs: Sequence[str]) -> dict[str, list[Channel]]:
    rows = await session.scalars(
        select(Channel).where(Channel.organisation.in_(orgs), Channel.enabled.is_(True))
    )
    out: dict[str, list[Channel]] = defaultdict(list)
    for c in rows:
        out[c.organisation].append(c)
    return out


def delivery_row(
    alert_id: uuid.UUID,
    organisation: str,
    channel: Channel,
    *,
    address: str,
    language: str,
    level: int,
    now: datetime,
    contact_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "alert_id": alert_id,
        "organisation": organisation,
        "channel": channel.kind,
        "channel_id": channel.id,
        "contact_id": contact_id,
        "push_subscription_id": None,
        "address": address,
        "language": language,
        "level": level,
        "status": DeliveryStatus.pending.value,
        "attempts": 0,
        "created_at": now,
    }


async def insert_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """New deliveries are due at once by the database's clock, whatever clock the caller was
    given (escalation runs on an injected one)."""
    await insert_many(session, Delivery.__tablename__, rows, next_attempt_at="now()")


def email_delivery(
    alert_id: uuid.UUID,
    organisation: str,
    channels: Sequence[Channel],
    contact: Contact | None,
    level: int,
    now: datetime,
) -> dict[str, Any] | None:
    """The e-mail to the SPOC of this level, in the SPOC's language, if e-mail is enabled."""
    channel = next((c for c in channels if c.kind == ChannelKind.email), None)
    if channel is None or contact is None or not contact.email:
        return None
    return delivery_row(
        alert_id,
        organisation,
        channel,
        address=contact.email,
        language=contact.language,
        level=level,
        now=now,
        contact_id=contact.id,
    )


async def push_deliveries(
    session: AsyncSession,
    alert_id: uuid.UUID,
    orgs: Sequence[str],
    level: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """One Web Push delivery to each device subscribed by an active user of each partner: a
    device receives its own organisation's alerts, and only those (its user's organisation
    decides, as it decides what the user reads). SITCEN staff (no organisation) get none here."""
    if not orgs:
        return []
    devices = await session.execute(
        select(
            PushSubscription.id,
            PushSubscription.endpoint,
            PushSubscription.language,
            User.organisation,
            User.username,
        )
        .join(User, User.id == PushSubscription.user_id)
        .where(
            User.organisation.in_(orgs),
            User.disabled.is_(False),
            PushSubscription.active.is_(True),
        )
        .order_by(User.organisation, PushSubscription.created_at)
    )
    return [
        {
            "id": uuid7(),
            "alert_id": alert_id,
            "organisation": org,
            "channel": ChannelKind.push.value,
            "channel_id": None,
            "contact_id": None,
            "push_subscription_id": device_id,
            # Who and which push service, never the endpoint: that URL lets anyone who holds
            # it (with the VAPID key) reach the device.
            "address": f"{username} @ {urlsplit(endpoint).hostname or '?'}"[:2000],
            "language": language,
            "level": level,
            "status": DeliveryStatus.pending.value,
            "attempts": 0,
            "created_at": now,
        }
        for device_id, endpoint, language, org, username in devices
    ]


# A new alert's recipients and deliveries as plain records: building the ORM instances (a
# hundred partners, one to three deliveries each) was about half the time the evaluator took
# to raise the alert, on the path the live push waits for.
@dataclass(frozen=True, slots=True)
class NewRecipient:
    organisation: str
    deadline_at: datetime
    subscription_id: uuid.UUID | None = None
    level: int = 0
    escalated_at: datetime | None = None
    flagged_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    ack_via: str | None = None


@dataclass(frozen=True, slots=True)
class NewDelivery:
    id: uuid.UUID
    organisation: str
    channel: str
    address: str
    language: str
    level: int
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None = None
    delivered_at: datetime | None = None

    @classmethod
    def of(cls, row: dict[str, Any], due: datetime) -> NewDelivery:
        return cls(
            row["id"],
            row["organisation"],
            row["channel"],
            row["address"],
            row["language"],
            row["level"],
            row["status"],
            row["attempts"],
            due,
        )


RecipientRecord = Recipient | NewRecipient
DeliveryRecord = Delivery | NewDelivery


@dataclass
class NewAlert:
    """An alert as just written, with its recipients and first deliveries: enough to push it
    without reading it back."""

    alert: Alert
    recipients: list[NewRecipient]
    deliveries: list[NewDelivery]


async def create_alert(
    session: AsyncSession,
    draft: AlertDraft,
    organisations: Sequence[str],
    *,
    actor: str,
    settings: AlertSettings,
    now: datetime,
    channels: dict[str, list[Channel]] | None = None,
    subscriptions: Mapping[str, uuid.UUID] | None = None,
) -> NewAlert:
    """Store an alert, one recipient row per partner and the first deliveries: the partner's
    webhooks and an e-mail to its first on-duty SPOC. The delivery worker sends them.

    `subscriptions`: for a rule alert, the subscription of each partner that raised it, kept
    on that partner's recipient row, which only that partner (and SITCEN) reads."""
    ref = str((await session.execute(_REF)).scalar_one())
    alert = Alert(
        id=uuid7(),
        ref=ref,
        status=draft.status.value,
        msg_type=draft.msg_type.value,
        severity=draft.severity.value,
        urgency=draft.urgency.value,
        certainty=draft.certainty.value,
        categories=[c.value for c in draft.categories],
        event=draft.event,
        texts=draft.texts,
        area_desc=draft.area_desc[:500],
        area=draft.area,
        area_codes=draft.area_codes,
        references_id=draft.references_id,
        origin=draft.origin.value,
        entity=draft.entity,
        entity_id=draft.entity_id,
        entity_ref=draft.entity_ref,
        change_seq=draft.change_seq,
        campaign_id=draft.campaign_id,
        sent_at=now,
        expires_at=draft.expires_at,
        created_by=actor,
        feature=draft.feature,
    )
    session.add(alert)
    await session.flush()
    orgs = sorted(set(organisations))
    deadline = now + timedelta(seconds=settings.deadline_for(alert.severity))
    subscriptions = subscriptions or {}
    recipients = [
        {
            "alert_id": alert.id,
            "organisation": o,
            "subscription_id": subscriptions.get(o),
            "deadline_at": deadline,
            "level": 0,
        }
        for o in orgs
    ]
    await insert_many(session, Recipient.__tablename__, recipients)
    deliveries = await _first_deliveries(session, alert.id, orgs, now, channels)
    await insert_deliveries(session, deliveries)
    await notify(session, "new", alert.id)
    return NewAlert(
        alert,
        [NewRecipient(o, deadline, subscriptions.get(o)) for o in orgs],
        [NewDelivery.of(d, now) for d in deliveries],
    )


async def _first_deliveries(
    session: AsyncSession,
    alert_id: uuid.UUID,
    orgs: list[str],
    now: datetime,
    channels: dict[str, list[Channel]] | None,
) -> list[dict[str, Any]]:
    if channels is None:
        channels = await channels_of(session, orgs)
    # SPOCs are read only for the partners that take e-mail.
    mailed = [o for o in orgs if any(c.kind == ChannelKind.email for c in channels.get(o, []))]
    contacts = await contacts_of(session, mailed) if mailed else {}
    rows: list[dict[str, Any]] = []
    for org in orgs:
        for channel in channels.get(org, []):
            if channel.kind == ChannelKind.webhook and channel.url:
                rows.append(
                    delivery_row(
                        alert_id, org, channel, address=channel.url, language="fr", level=0, now=now
                    )
                )
        spoc = spoc_at(contacts.get(org, []), 0, now)
        mail = email_delivery(alert_id, org, channels.get(org, []), spoc, 0, now)
        if mail:
            rows.append(mail)
    rows += await push_deliveries(session, alert_id, orgs, 0, now)
    return rows


async def get_alert(session: AsyncSession, alert_id: uuid.UUID) -> Alert:
    return await get_or_404(session, Alert, alert_id, "alert")


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """A partner's first acknowledgement of an alert, as the layers above learn of it."""

    alert: Alert
    organisation: str
    by: str
    via: AckVia
    at: datetime


# What else an acknowledgement settles, by the entity the alert is about, in the same
# transaction: the crisis cell moves a paged position to `acknowledged` (app.cell.paging).
# Registered by those layers when an instance starts (app.runtime); alerting knows none of them.
AckHook = Callable[[AsyncSession, Acknowledgement], Awaitable[None]]
ON_ACKNOWLEDGED: dict[str, AckHook] = {}


async def acknowledge(
    session: AsyncSession,
    alert_id: uuid.UUID,
    organisation: str,
    *,
    by: str,
    via: AckVia,
    now: datetime,
) -> Recipient:
    """Record the partner's acknowledgement; the first one counts, repeats change nothing."""
    row = await session.scalar(
        select(Recipient)
        .where(Recipient.alert_id == alert_id, Recipient.organisation == organisation)
        .with_for_update()
    )
    if row is None:
        raise not_found("alert", alert_id)
    if row.acknowledged_at is None:
        row.acknowledged_at = now
        row.acknowledged_by = by[:200]
        row.ack_via = via.value
        await notify(session, "state", alert_id, organisation)
        alert = await session.get(Alert, alert_id) if ON_ACKNOWLEDGED else None
        hook = ON_ACKNOWLEDGED.get(alert.entity or "") if alert is not None else None
        if hook is not None and alert is not None:
            await hook(session, Acknowledgement(alert, organisation, by[:200], via, now))
    return row


async def recipients_of(
    session: AsyncSession, alert_ids: Sequence[uuid.UUID], organisation: str | None = None
) -> dict[uuid.UUID, list[Recipient]]:
    query = select(Recipient).where(Recipient.alert_id.in_(alert_ids))
    if organisation is not None:
        query = query.where(Recipient.organisation == organisation)
    out: dict[uuid.UUID, list[Recipient]] = defaultdict(list)
    for r in await session.scalars(query.order_by(Recipient.organisation)):
        out[r.alert_id].append(r)
    return out


async def deliveries_of(
    session: AsyncSession, alert_ids: Sequence[uuid.UUID], organisation: str | None = None
) -> dict[tuple[uuid.UUID, str], list[Delivery]]:
    query = select(Delivery).where(Delivery.alert_id.in_(alert_ids))
    if organisation is not None:
        query = query.where(Delivery.organisation == organisation)
    out: dict[tuple[uuid.UUID, str], list[Delivery]] = defaultdict(list)
    for d in await session.scalars(query.order_by(Delivery.created_at, Delivery.id)):
        out[(d.alert_id, d.organisation)].append(d)
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def text_in(alert: Alert, language: str) -> dict[str, str]:
    """The alert's text in a language, or in the first language it has (FR, NL, EN)."""
    for lang in (language, *FALLBACK):
        if alert.texts.get(lang, {}).get("headline"):
            return alert.texts[lang]
    return {"headline": alert.event, "description": ""}


def alert_json(alert: Alert) -> dict[str, Any]:
    """The alert as every one of its readers gets it. It holds nothing about one recipient
    (which partner's subscription raised it, a partner's acknowledgement): that is in
    `recipient_json`, and a partner reads only its own row."""
    return {
        "id": str(alert.id),
        "ref": alert.ref,
        "identifier": identifier(alert),
        "status": alert.status,
        "msg_type": alert.msg_type,
        "severity": alert.severity,
        "urgency": alert.urgency,
        "certainty": alert.certainty,
        "categories": alert.categories,
        "event": alert.event,
        "texts": alert.texts,
        "area_desc": alert.area_desc,
        "area": alert.area,
        "area_codes": alert.area_codes,
        "references": str(alert.references_id) if alert.references_id else None,
        "origin": alert.origin,
        "entity": alert.entity,
        "entity_id": str(alert.entity_id) if alert.entity_id else None,
        "entity_ref": alert.entity_ref,
        "campaign_id": str(alert.campaign_id) if alert.campaign_id else None,
        "sent_at": _iso(alert.sent_at),
        "expires_at": _iso(alert.expires_at),
        "created_by": alert.created_by,
    }


def delivery_json(d: DeliveryRecord) -> dict[str, Any]:
    return {
        "id": str(d.id),
        "channel": d.channel,
        "address": d.address,
        "language": d.language,
        "level": d.level,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": _iso(d.next_attempt_at) if d.status == "pending" else None,
        "last_error": d.last_error,
        "delivered_at": _iso(d.delivered_at),
    }


def recipient_json(
    r: RecipientRecord, deliveries: Sequence[DeliveryRecord] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organisation": r.organisation,
        "subscription_id": str(r.subscription_id) if r.subscription_id else None,
        "deadline_at": _iso(r.deadline_at),
        "level": r.level,
        "escalated_at": _iso(r.escalated_at),
        "flagged_at": _iso(r.flagged_at),
        "acknowledged_at": _iso(r.acknowledged_at),
        "acknowledged_by": r.acknowledged_by,
        "ack_via": r.ack_via,
    }
    if deliveries is not None:
        body["deliveries"] = [delivery_json(d) for d in deliveries]
    return body


def refuse(detail: str, loc: list[Any]) -> ProblemError:
    return validation_problem([{"loc": loc, "msg": detail}])


async def listing(
    session: AsyncSession,
    *,
    organisation: str | None,
    unacknowledged: bool,
    status: list[str] | None,
    origin: list[str] | None,
    campaign: uuid.UUID | None,
    before: uuid.UUID | None,
    limit: int,
) -> list[Alert]:
    """Newest first (ids are time-ordered). For a partner, only the alerts addressed to it."""
    query = select(Alert)
    if organisation is not None or unacknowledged:
        mine = select(Recipient.alert_id)
        if organisation is not None:
            mine = mine.where(Recipient.organisation == organisation)
        if unacknowledged:
            mine = mine.where(Recipient.acknowledged_at.is_(None))
        query = query.where(Alert.id.in_(mine))
    if status:
        query = query.where(Alert.status.in_(status))
    if origin:
        query = query.where(Alert.origin.in_(origin))
    if campaign is not None:
        query = query.where(Alert.campaign_id == campaign)
    if before is not None:
        query = query.where(Alert.id < before)
    return list((await session.scalars(query.order_by(Alert.id.desc()).limit(limit))).all())


async def escalations(
    session: AsyncSession, organisation: str | None, limit: int
) -> list[Recipient]:
    """Unacknowledged alerts that went to a further SPOC or were flagged to SITCEN."""
    query = (
        select(Recipient)
        .where(
            Recipient.acknowledged_at.is_(None),
            (Recipient.level > 0) | Recipient.flagged_at.is_not(None),
        )
        .order_by(Recipient.deadline_at.desc())
        .limit(limit)
    )
    if organisation is not None:
        query = query.where(Recipient.organisation == organisation)
    return list((await session.scalars(query)).all())


async def deliveries(
    session: AsyncSession, organisation: str | None, status: list[str] | None, limit: int
) -> list[Delivery]:
    query = select(Delivery).order_by(Delivery.created_at.desc()).limit(limit)
    if organisation is not None:
        query = query.where(Delivery.organisation == organisation)
    if status:
        query = query.where(Delivery.status.in_(status))
    return list((await session.scalars(query)).all())


async def retry_delivery(session: AsyncSession, delivery_id: uuid.UUID, now: datetime) -> Delivery:
    """Send a dead-lettered delivery again (after the partner fixed its receiver)."""
    d = await get_or_404(session, Delivery, delivery_id, "delivery", for_update=True)
    if d.status != DeliveryStatus.dead:
        raise conflict(f"delivery {delivery_id} is {d.status}, not dead-lettered")
    d.status, d.attempts, d.next_attempt_at, d.claimed_until = "pending", 0, now, None
    await notify(session, "retry", d.alert_id)
    return d
