"""The delivery worker: claims due deliveries, sends them, records the outcome.

A delivery is claimed by setting it `sending` with a lease (`claimed_until`) in a short
transaction taken with `FOR UPDATE SKIP LOCKED`, so instances never take the same row. The send
happens outside any transaction. If the sender dies mid-send, the lease runs out and the row is
taken again: the receiver may then see the message twice, with the same `Idempotency-Key`
(the delivery id), and keeps one. Failures are retried with exponential back-off and jitter;
after `max_attempts` the delivery is dead-lettered and shown as such.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import aiohttp
import orjson
from sqlalchemy import Table, bindparam, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.channels import attachments, email, push, webhook
from app.alerts.channels.http import WebhookClient
from app.alerts.channels.tokens import AckClaim, PushAckClaim, sign, sign_push
from app.alerts.channels.webhook import SendError
from app.alerts.enums import DeliveryStatus
from app.alerts.lifecycle.service import alert_json, notify, text_in
from app.alerts.models import Alert, Delivery, PushSubscription, Recipient
from app.alerts.settings import AlertSettings
from app.auth.models import User
from app.background import Loop
from app.clock import Clock
from app.metrics import Metrics
from app.partners.models import Channel, ChannelKind
from app.realtime.listener import DB_ERRORS

log = logging.getLogger(__name__)
RETRY_AFTER_MAX_SECONDS = 3600.0


def retry_delay(attempts: int, settings: AlertSettings) -> float:
    """Exponential in the attempts made, capped, with jitter so that a partner coming back
    is not hit by every queued delivery at the same instant."""
    delay = min(settings.retry_max_seconds, settings.retry_base_seconds * 2.0 ** (attempts - 1))
    return float(delay * random.uniform(0.5, 1.0))


def ack_url(settings: AlertSettings, secret_key: str, d: Delivery, alert: Alert) -> str:
    expires = alert.sent_at + timedelta(hours=settings.ack_link_hours)
    token = sign(secret_key, AckClaim(alert.id, d.organisation, d.contact_id, expires))
    return f"{settings.public_url}/alerts/ack?token={token}"


PUSH_ACK_PATH = "/alerts/ack/push"


def push_body(
    settings: AlertSettings, secret_key: str, d: Delivery, alert: Alert, device: Device
) -> bytes:
    """A push notification's payload: the headline in the device's language, the alert's id,
    and a token that acknowledges it for the partner, signed with the device's user."""
    expires = alert.sent_at + timedelta(hours=settings.ack_link_hours)
    token = sign_push(secret_key, PushAckClaim(alert.id, d.organisation, device.user_id, expires))
    return push.payload(
        alert_id=str(alert.id),
        ref=alert.ref,
        headline=text_in(alert, d.language)["headline"],
        language=d.language,
        severity=alert.severity,
        msg_type=alert.msg_type,
        status=alert.status,
        url=f"{settings.public_url}/?alert={alert.id}",
        ack_url=f"{settings.public_url}{PUSH_ACK_PATH}",
        ack_token=token,
    )


def push_ttl(settings: AlertSettings, alert: Alert, now: datetime) -> int:
    """RFC 8030 TTL: the setting, never past the alert's expiry."""
    ttl = settings.push_ttl_seconds
    if alert.expires_at is not None:
        ttl = min(ttl, max(0, int((alert.expires_at - now).total_seconds())))
    return ttl


def cap_url(settings: AlertSettings, alert: Alert) -> str:
    return f"{settings.public_url}/api/alerts/{alert.id}.cap"


def webhook_body(
    settings: AlertSettings,
    secret_key: str,
    d: Delivery,
    alert: Alert,
    subscription_id: uuid.UUID | None,
) -> bytes:
    """The same bytes on every attempt of a delivery (only the signature's time differs). What
    concerns this partner only (its subscription) sits beside the alert, which every recipient
    reads alike."""
    return orjson.dumps(
        {
            "type": "alert",
            "delivery": str(d.id),
            "organisation": d.organisation,
            "subscription_id": str(subscription_id) if subscription_id else None,
            "alert": alert_json(alert),
            "ack_url": ack_url(settings, secret_key, d, alert),
            "cap_url": cap_url(settings, alert),
        }
    )


@dataclass(frozen=True)
class Device:
    """A push delivery's device as it stands when the delivery is claimed."""

    endpoint: str
    p256dh: str
    auth: str
    user_id: uuid.UUID
    organisation: str | None  # its user's, now: a user moved to another partner gets nothing
    usable: bool  # subscription active, user not disabled


@dataclass
class Claimed:
    delivery: Delivery
    alert: Alert
    channel: Channel | None
    subscription_id: uuid.UUID | None = None  # the recipient's: the partner's own subscription
    device: Device | None = None  # a push delivery's


@dataclass(frozen=True)
class Failure:
    """Why a send failed. `final`: no retry can succeed (the device is gone): dead at once.
    `not_before`: seconds the receiver asked to wait (Retry-After)."""

    error: str
    final: bool = False
    not_before: float | None = None
    gone_device: uuid.UUID | None = None  # a push subscription to remove


async def claim(
    session: AsyncSession, now: datetime, limit: int, lease: timedelta
) -> list[Claimed]:
    due = (
        select(Delivery.id)
        .where(
            or_(
                (Delivery.status == DeliveryStatus.pending) & (Delivery.next_attempt_at <= now),
                (Delivery.status == DeliveryStatus.sending) & (Delivery.claimed_until < now),
            )
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # The partner's own subscription comes back with each claimed row, in the same statement.
    own_subscription = (
        select(Recipient.subscription_id)
        .where(
            Recipient.alert_id == Delivery.alert_id,
            Recipient.organisation == Delivery.organisation,
        )
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(due.scalar_subquery()))
            .values(
                status=DeliveryStatus.sending,
                claimed_until=now + lease,
                attempts=Delivery.attempts + 1,
            )
            .returning(Delivery, own_subscription)
        )
    ).all()
    if not rows:
        return []
    taken = [d for d, _ in rows]
    alerts = {
        a.id: a
        for a in await session.scalars(
            select(Alert).where(Alert.id.in_({d.alert_id for d in taken}))
        )
    }
    channel_ids = {d.channel_id for d in taken if d.channel_id}
    channels = {
        c.id: c for c in await session.scalars(select(Channel).where(Channel.id.in_(channel_ids)))
    }
    devices = await _devices(session, {d.push_subscription_id for d in taken})
    return [
        Claimed(
            d,
            alerts[d.alert_id],
            channels.get(d.channel_id) if d.channel_id else None,
            subscription_id,
            devices.get(d.push_subscription_id) if d.push_subscription_id else None,
        )
        for d, subscription_id in rows
    ]


async def _devices(session: AsyncSession, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, Device]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(PushSubscription, User.organisation, User.disabled)
        .join(User, User.id == PushSubscription.user_id)
        .where(PushSubscription.id.in_(wanted))
    )
    return {
        s.id: Device(s.endpoint, s.p256dh, s.auth, s.user_id, org, s.active and not disabled)
        for s, org, disabled in rows
    }


async def next_due(session: AsyncSession) -> datetime | None:
    """When the next delivery falls due: a pending one at its next attempt, one being sent
    when its lease runs out (until then its sender has it, here or in another instance)."""
    due: datetime | None = await session.scalar(
        select(
            func.min(
                case(
                    (Delivery.status == DeliveryStatus.sending, Delivery.claimed_until),
                    else_=Delivery.next_attempt_at,
                )
            )
        ).where(Delivery.status.in_([DeliveryStatus.pending, DeliveryStatus.sending]))
    )
    return due


class DeliveryWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: AlertSettings,
        secret_key: str,
        clock: Clock,
        vapid: push.VapidKey | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._sessions = sessions
        # Observed as each delivery is recorded made: its creation to the receiver's answer.
        self._latency = (metrics or Metrics()).alert_delivery_latency
        self._settings = settings
        self._secret = secret_key
        self._clock = clock
        self._limit = asyncio.Semaphore(settings.send_concurrency)
        self._http = WebhookClient(max_idle=settings.send_concurrency)
        # Web Push: the VAPID key (None: not configured; a push delivery then fails, retried,
        # and shows why) and one HTTP session for the push services, made on first use.
        self._vapid = vapid
        self._push_http: aiohttp.ClientSession | None = None
        # Claims due deliveries and sends them; a second loop records the outcomes.
        self.loop = Loop("alerts-deliver", self._claim_step, poll_seconds=settings.poll_seconds)
        self.recorder = Loop("alerts-record", self._record_step, poll_seconds=settings.poll_seconds)
        self.wake = self.loop.wake
        self.sent = 0
        self.failed = 0
        self._inflight: set[uuid.UUID] = set()
        self._outcomes: list[tuple[Claimed, Failure | None]] = []

    @property
    def loops(self) -> tuple[Loop, Loop]:
        return self.loop, self.recorder

    async def close(self) -> None:
        """After the loops are stopped: hand back what was claimed and not recorded, so
        that the next instance sends it at once rather than after the lease. A receiver that
        did get it sees the same Idempotency-Key again."""
        await self._http.aclose()
        if self._outcomes:  # sent during a graceful stop, after the recorder's last step
            with contextlib.suppress(*DB_ERRORS):
                await self._record_step()
        if self._push_http is not None:
            await self._push_http.close()
            self._push_http = None
        if not self._inflight:
            return
        with contextlib.suppress(*DB_ERRORS):
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(Delivery)
                    .where(
                        Delivery.id.in_(self._inflight),
                        Delivery.status == DeliveryStatus.sending,
                    )
                    .values(status=DeliveryStatus.pending, claimed_until=None)
                )
        self._inflight.clear()

    async def _claim_step(self) -> float:
        await self._drain()
        return await self._until_next_due()

    async def _until_next_due(self) -> float:
        async with self._sessions() as session:
            due = await next_due(session)
        poll = self._settings.poll_seconds
        if due is None:
            return poll
        return max(0.0, min(poll, (due - self._clock()).total_seconds()))

    async def _drain(self) -> None:
        """Claim and send until nothing is due; sends run concurrently, bounded."""
        batch = self._settings.send_concurrency * 2
        lease = timedelta(seconds=self._settings.claim_seconds)
        while not self.loop.stopping:  # shutting down: finish what is claimed, no more
            async with self._sessions() as session, session.begin():
                claimed = await claim(session, self._clock(), batch, lease)
            if not claimed:
                return
            self._inflight.update(c.delivery.id for c in claimed)
            await asyncio.gather(*(self._deliver(c) for c in claimed))
            if len(claimed) < batch:
                return

    async def _deliver(self, c: Claimed) -> None:
        async with self._limit:
            failure: Failure | None
            try:
                await self._send(c)
                failure = None
            except push.PushError as e:
                gone = c.delivery.push_subscription_id if e.gone else None
                failure = Failure(str(e), e.final, e.retry_after, gone)
            except SendError as e:
                failure = Failure(str(e) or "failed")
            except Exception as e:
                # A fault of ours in one delivery (a message that cannot be built) fails that
                # delivery, recorded and retried like any other; the worker carries on.
                log.exception("alerts: delivery %s failed in sitcen", c.delivery.id)
                failure = Failure(f"internal error: {type(e).__name__}")
        self._outcomes.append((c, failure))
        self.recorder.wake.set()

    async def _record_step(self) -> None:
        """Records the outcomes that arrived since the last step in one transaction: a burst
        of a hundred sends costs a few transactions, not a hundred. If recording fails, the
        leases run out and the deliveries are sent again, with the same keys."""
        outcomes, self._outcomes = self._outcomes, []
        if not outcomes:
            return
        try:
            await self._record(outcomes)
        finally:
            for c, _ in outcomes:
                self._inflight.discard(c.delivery.id)
        if any(error is not None for _, error in outcomes):
            self.loop.wake.set()  # a retry is now due at its own time, sooner than the poll

    async def _send(self, c: Claimed) -> None:
        d, alert = c.delivery, c.alert
        if d.channel == ChannelKind.webhook:
            if c.channel is None or not c.channel.secret:
                raise SendError("webhook channel removed or without a secret")
            body = webhook_body(self._settings, self._secret, d, alert, c.subscription_id)
            seconds = self._settings.webhook_timeout_seconds
            try:
                async with asyncio.timeout(seconds):
                    await webhook.post(
                        self._http, d.address, c.channel.secret, body, str(d.id), time.time()
                    )
            except TimeoutError:
                raise SendError(f"no answer within {seconds:g} s") from None
        elif d.channel == ChannelKind.push:
            await self._push(c)
        elif d.channel == ChannelKind.email:
            msg = email.message(
                alert,
                to=d.address,
                language=d.language,
                delivery_id=str(d.id),
                ack_url=ack_url(self._settings, self._secret, d, alert),
                cap_url=cap_url(self._settings, alert),
                settings=self._settings,
                attachments=await attachments.for_delivery(
                    self._sessions, alert, d.organisation, d.language
                ),
            )
            await email.send(self._settings, msg)
        else:
            raise SendError(f"unknown channel {d.channel!r}")

    async def _push(self, c: Claimed) -> None:
        d, alert, device = c.delivery, c.alert, c.device
        if device is None:
            raise push.PushError("push subscription removed", final=True)
        if device.organisation != d.organisation:
            # The device's user now belongs to another organisation (or none): this partner's
            # alert is not theirs to read any more.
            raise push.PushError("the device's user no longer belongs to the partner", final=True)
        if not device.usable:
            raise push.PushError("push subscription paused or its user disabled", final=True)
        if self._vapid is None:
            raise SendError("web push is not configured (SITCEN_VAPID_PRIVATE_KEY)")
        if self._push_http is None:
            self._push_http = aiohttp.ClientSession()
        seconds = self._settings.push_timeout_seconds
        try:
            async with asyncio.timeout(seconds + 1):
                await push.send(
                    self._push_http,
                    self._vapid,
                    endpoint=device.endpoint,
                    p256dh=device.p256dh,
                    auth=device.auth,
                    data=push_body(self._settings, self._secret, d, alert, device),
                    ttl=push_ttl(self._settings, alert, self._clock()),
                    urgent=alert.severity in push.URGENT_SEVERITIES,
                    seconds=seconds,
                    topic=alert.id.hex,
                )
        except TimeoutError:
            raise SendError(f"no answer within {seconds:g} s") from None

    async def _record(self, outcomes: list[tuple[Claimed, Failure | None]]) -> None:
        now = self._clock()
        rows, channels, dead = [], [], 0
        devices: list[dict[str, Any]] = []
        gone: set[uuid.UUID] = set()
        for c, failure in outcomes:
            error = failure.error if failure is not None else None
            d = c.delivery
            row: dict[str, Any] = {
                "b_id": d.id,
                "b_attempts": d.attempts,
                "b_delivered_at": now if error is None else None,
                "b_last_error": error,
                "b_status": DeliveryStatus.delivered,
                "b_next": d.next_attempt_at,
            }
            if failure is not None:
                last = failure.final or d.attempts >= self._settings.max_attempts
                dead += last
                row["b_status"] = DeliveryStatus.dead if last else DeliveryStatus.pending
                delay = retry_delay(d.attempts, self._settings)
                if failure.not_before is not None:
                    # The receiver said when to come back (Retry-After): not sooner, within
                    # reason (an hour: an alert's message is stale long before).
                    delay = max(delay, min(failure.not_before, RETRY_AFTER_MAX_SECONDS))
                row["b_next"] = now + timedelta(seconds=delay)
                log.info("alerts: delivery %s failed (attempt %d): %s", d.id, d.attempts, error)
                if failure.gone_device is not None:
                    gone.add(failure.gone_device)
            rows.append(row)
            if d.push_subscription_id is not None and d.push_subscription_id not in gone:
                devices.append(
                    {
                        "b_id": d.push_subscription_id,
                        "b_success": now if error is None else None,
                        "b_error_at": None if error is None else now,
                        "b_error": error,
                    }
                )
            if d.channel_id is not None:
                channels.append(
                    {
                        "b_id": d.channel_id,
                        "b_success": now if error is None else None,
                        "b_error_at": None if error is None else now,
                        "b_error": error,
                    }
                )
        async with self._sessions() as session, session.begin():
            await session.execute(_RECORD, rows)
            if channels:
                await session.execute(_CHANNEL_STATE, channels)
            if devices:
                await session.execute(_DEVICE_STATE, devices)
            if gone:
                # The push service says the subscription no longer exists: removed, so no
                # further alert is sent to it (its deliveries keep their record).
                await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
            for alert_id in {c.delivery.alert_id for c, _ in outcomes}:
                await notify(session, "delivery", alert_id)
        for c, f in outcomes:
            if f is None:
                latency = (now - c.delivery.created_at).total_seconds()
                self._latency.labels(c.delivery.channel).observe(max(0.0, latency))
        self.sent += sum(1 for _, f in outcomes if f is None)
        self.failed += sum(1 for _, f in outcomes if f is not None)
        self.loop.stats.dead_letters += dead


# Core tables: an executemany UPDATE with a WHERE of our own is not an ORM bulk update.
_deliveries = cast(Table, Delivery.__table__)
_channels = cast(Table, Channel.__table__)
# Only our own claim is recorded: a lease that ran out belongs to another sender now.
_RECORD = (
    update(_deliveries)
    .where(
        _deliveries.c.id == bindparam("b_id"),
        _deliveries.c.status == DeliveryStatus.sending,
        _deliveries.c.attempts == bindparam("b_attempts"),
    )
    .values(
        status=bindparam("b_status"),
        delivered_at=bindparam("b_delivered_at"),
        last_error=bindparam("b_last_error"),
        next_attempt_at=bindparam("b_next"),
        claimed_until=None,
    )
)
# A success leaves the last error as it was, for the record; `healthy` compares the two times.
_CHANNEL_STATE = (
    update(_channels)
    .where(_channels.c.id == bindparam("b_id"))
    .values(
        last_success_at=func.coalesce(bindparam("b_success"), _channels.c.last_success_at),
        last_error_at=func.coalesce(bindparam("b_error_at"), _channels.c.last_error_at),
        last_error=func.coalesce(bindparam("b_error"), _channels.c.last_error),
    )
)
_devices_table = cast(Table, PushSubscription.__table__)
_DEVICE_STATE = (
    update(_devices_table)
    .where(_devices_table.c.id == bindparam("b_id"))
    .values(
        last_success_at=func.coalesce(bindparam("b_success"), _devices_table.c.last_success_at),
        last_error_at=func.coalesce(bindparam("b_error_at"), _devices_table.c.last_error_at),
        last_error=func.coalesce(bindparam("b_error"), _devices_table.c.last_error),
    )
)
