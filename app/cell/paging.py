"""Paging a crisis cell and following who answers.

A seat held by a partner organisation is paged by an alert to that organisation, so it goes
out as every alert does (live on /ws, webhooks, e-mail to the on-duty SPOC), is acknowledged
the same ways (REST, /ws, the e-mail's link) and escalates to the next SPOC, then to SITCEN,
when nobody answers (app.alerts). A seat held by a SITCEN user is paged by a `page` message on
that user's /ws connections and, by Web Push, on the devices that user registered
(`push_pages`, after the commit: a locked phone is woken too); the position's own change
(presence `paged`) reaches every dashboard through the change feed. The acknowledgement,
however it comes (the notification's action too), moves the position to `acknowledged`
through the one write path; the holder (or SITCEN) then says `present`, `remote` or
`declined`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import orjson
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.channels import push, tokens
from app.alerts.enums import (
    AckVia,
    CapCategory,
    CapSeverity,
    CapStatus,
    Certainty,
    MsgType,
    Origin,
    Urgency,
)
from app.alerts.lifecycle import service as alerts
from app.alerts.lifecycle.compose import AlertDraft
from app.alerts.lifecycle.manual import REGION
from app.alerts.models import Alert, PushSubscription, Recipient
from app.alerts.settings import AlertSettings
from app.alerts.workers.delivery import RETRY_AFTER_MAX_SECONDS, retry_delay
from app.auth.models import User
from app.auth.permissions import allowed
from app.auth.principal import Principal
from app.auth.roles import Role
from app.domain import activation as activation_kind
from app.domain import objects
from app.domain import position as position_kind
from app.domain.activation import Activation
from app.domain.actor import Actor
from app.domain.enums import ActivationLevel, ActivationStatus, Entity, Presence
from app.domain.features import plain
from app.domain.objects import Written
from app.domain.position import Position
from app.domain.visibility import Scope
from app.errors import conflict, invalid_link, not_found, validation_problem
from app.realtime.hub import Hub
from app.realtime.protocol import encode

log = logging.getLogger(__name__)
SPEC = position_kind.SPEC
PRESENCE_PATCH = position_kind.PresenceChange
# How urgent a page is follows the activation's level: it sets the acknowledgement deadline,
# and so when the page escalates (SITCEN_ALERTS_ACK_DEADLINE_SECONDS, by severity).
SEVERITY = {
    ActivationLevel.monitoring: CapSeverity.Minor,
    ActivationLevel.pre_alert: CapSeverity.Moderate,
    ActivationLevel.coordination: CapSeverity.Severe,
    ActivationLevel.crisis_cell: CapSeverity.Extreme,
}
REACHED = frozenset({Presence.acknowledged, Presence.present, Presence.remote})
MISSING = frozenset({Presence.expected, Presence.paged})
ANSWERED = frozenset({Presence.present, Presence.remote, Presence.declined})
JOINED = position_kind.JOINED


def _pageable(seat: Position, named: bool) -> bool:
    """Paging the whole cell reaches those not reached yet (again: a reminder); a seat named
    is paged unless its holder is already in the room or taking part remotely."""
    return seat.presence not in JOINED if named else seat.presence in MISSING


@dataclass
class Paging:
    """What a page did: the seats paged, those left out and why, and the live messages to send
    to SITCEN users once the transaction is committed."""

    paged: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    live: list[tuple[str, str]] = field(default_factory=list)  # (username, frame)
    # (username, payload by language): the Web Push notifications to the paged users' devices
    pushes: list[PagePush] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"paged": self.paged, "skipped": self.skipped}


def _seat(row: Position) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "ref": row.ref,
        "title": row.title,
        "role": row.role,
        "holder_user": row.holder_user,
        "holder_organisation": row.holder_organisation,
    }


# The activation's level as the page's push notification names it.
LEVELS = {
    "fr": {
        ActivationLevel.monitoring: "veille",
        ActivationLevel.pre_alert: "pré-alerte",
        ActivationLevel.coordination: "coordination",
        ActivationLevel.crisis_cell: "cellule de crise",
    },
    "nl": {
        ActivationLevel.monitoring: "monitoring",
        ActivationLevel.pre_alert: "voorwaarschuwing",
        ActivationLevel.coordination: "coördinatie",
        ActivationLevel.crisis_cell: "crisiscel",
    },
    "en": {
        ActivationLevel.monitoring: "monitoring",
        ActivationLevel.pre_alert: "pre-alert",
        ActivationLevel.coordination: "coordination",
        ActivationLevel.crisis_cell: "crisis cell",
    },
}


def _texts(
    activation: Activation, seat: Position, with_level: bool = False
) -> dict[str, dict[str, str]]:
    title = activation.title
    level = ActivationLevel(activation.level)
    # A push notification names the level too (an alert's text says it by its severity).
    ref = {
        lang: f"{activation.ref} ({names[level]})" if with_level else activation.ref
        for lang, names in LEVELS.items()
    }
    return {
        "fr": {
            "headline": f"Cellule de crise {ref['fr']} : vous êtes appelé — {seat.title}",
            "description": f"{title}. Accusez réception, puis indiquez votre présence.",
        },
        "nl": {
            "headline": f"Crisiscel {ref['nl']}: u wordt opgeroepen — {seat.title}",
            "description": f"{title}. Bevestig de ontvangst en geef dan uw aanwezigheid door.",
        },
        "en": {
            "headline": f"Crisis cell {ref['en']}: you are paged — {seat.title}",
            "description": f"{title}. Acknowledge, then say whether you will attend.",
        },
    }


def _draft(activation: Activation, seat: Position) -> AlertDraft:
    return AlertDraft(
        status=CapStatus.Exercise if activation.exercise else CapStatus.Actual,
        msg_type=MsgType.Alert,
        severity=SEVERITY[ActivationLevel(activation.level)],
        urgency=Urgency.Immediate,
        certainty=Certainty.Observed,
        categories=[CapCategory.Safety],
        event=f"GCC {activation.ref}",
        texts=_texts(activation, seat),
        area_desc=REGION,
        origin=Origin.manual,
        entity=Entity.position.value,
        entity_id=seat.id,
        entity_ref=seat.ref,
    )


async def _cell(
    session: AsyncSession, activation: Activation, wanted: list[uuid.UUID] | None
) -> list[Position]:
    query = select(Position).where(Position.activation_id == activation.id)
    seats = list((await session.scalars(query.order_by(Position.id).with_for_update())).all())
    if wanted is None:
        return seats
    by_id = {s.id: s for s in seats}
    for i, position_id in enumerate(wanted):
        if position_id not in by_id:
            raise validation_problem(
                [
                    {
                        "loc": ["body", "positions", i],
                        "msg": f"no position {position_id} in activation {activation.ref}",
                    }
                ]
            )
    return [by_id[p] for p in dict.fromkeys(wanted)]


async def page_cell(
    session: AsyncSession,
    activation_id: uuid.UUID,
    wanted: list[uuid.UUID] | None,
    actor: Actor,
    scope: Scope,
    settings: AlertSettings,
    now: datetime,
) -> Paging:
    """Page the holders of an open activation's seats: all not reached yet, or the ones named
    (any not already in the room or taking part remotely)."""
    row = await objects.get(session, activation_kind.SPEC, activation_id, scope.clause(Activation))
    assert isinstance(row, Activation)
    if row.status == ActivationStatus.closed:
        raise conflict(f"activation {row.ref} is closed: reopen it to page its cell")
    result = Paging()
    for seat in await _cell(session, row, wanted):
        if not (seat.holder_user or seat.holder_organisation):
            result.skipped.append({**_seat(seat), "reason": "no holder"})
            continue
        if not _pageable(seat, wanted is not None):
            result.skipped.append({**_seat(seat), "reason": f"presence is {seat.presence}"})
            continue
        alert = None
        if seat.holder_organisation:
            created = await alerts.create_alert(
                session,
                _draft(row, seat),
                [seat.holder_organisation],
                actor=actor.name,
                settings=settings,
                now=now,
            )
            alert = {"id": str(created.alert.id), "ref": created.alert.ref}
        written = await objects.update(
            session,
            SPEC,
            seat.id,
            PRESENCE_PATCH(presence=Presence.paged, paged_at=now),
            None,
            seat.version,
            actor,
        )
        if seat.holder_user:
            frame = {
                "type": "page",
                "activation": {"id": str(row.id), "ref": row.ref, "title": row.title},
                "position": written.feature,
                "by": actor.name,
                "at": now.isoformat(),
            }
            result.live.append((seat.holder_user, encode(frame)))
            result.pushes.append(_page_push(row, seat, seat.holder_user, now))
        result.paged.append({**_seat(seat), "alert": alert, "live": bool(seat.holder_user)})
    return result


@dataclass(frozen=True)
class PagePush:
    """A page to push to its holder's devices: what every language's notification says."""

    username: str
    position_id: uuid.UUID
    fields: dict[str, Any]
    texts: dict[str, dict[str, str]]

    def payload(self, language: str, ack_url: str, token: str) -> bytes:
        """What the service worker reads (frontend/src/sw-push.js, type `page`): the
        activation's reference, title and level, the seat, in the device's language, and the
        token that acknowledges the page; nothing of any person."""
        text = self.texts.get(language) or self.texts["en"]
        return orjson.dumps(
            {
                **self.fields,
                "headline": text["headline"][: push.MAX_HEADLINE],
                "body": text["description"][: push.MAX_HEADLINE],
                "lang": language if language in self.texts else "en",
                "ack": {"url": ack_url, "token": token},
            }
        )


def _page_push(activation: Activation, seat: Position, username: str, now: datetime) -> PagePush:
    return PagePush(
        username,
        seat.id,
        {
            "type": "page",
            "activation": str(activation.id),
            "ref": activation.ref,
            "title": activation.title,
            "level": activation.level,
            "exercise": activation.exercise,
            "position": str(seat.id),
            "position_ref": seat.ref,
            "at": now.isoformat(),
            "url": f"/#board/{activation.id}",
        },
        _texts(activation, seat, with_level=True),
    )


PAGE_ACK_PATH = "/cell/ack/push"


async def push_pages(
    sessions: async_sessionmaker[AsyncSession],
    paging: Paging,
    key: push.VapidKey | None,
    settings: AlertSettings,
    secret_key: str,
    now: datetime,
) -> int:
    """After the commit: a Web Push notification of the page to each device registered by a
    paged SITCEN user (a partner's user, with an organisation, is paged by alerts, never here),
    in the device's language. A device whose push service answers 404/410 is removed; 429, 5xx
    and network failures are retried in this process with the alert deliveries' back-off (not
    a durable row: a restart meanwhile drops them; the page itself stands on /ws and the
    board). The messages sent."""
    if key is None or not paging.pushes:
        return 0
    wanted = {p.username for p in paging.pushes}
    async with sessions() as session:
        rows = (
            await session.execute(
                select(PushSubscription, User.username)
                .join(User, User.id == PushSubscription.user_id)
                .where(
                    User.username.in_(wanted),
                    User.organisation.is_(None),
                    User.disabled.is_(False),
                    PushSubscription.active.is_(True),
                )
            )
        ).all()
    devices: dict[str, list[PushSubscription]] = defaultdict(list)
    for device, username in rows:
        devices[username].append(device)
    gone: list[uuid.UUID] = []

    expires = now + timedelta(hours=settings.ack_link_hours)

    def body(page: PagePush, device: PushSubscription) -> bytes:
        claim = tokens.PageAckClaim(page.position_id, device.user_id, expires)
        return page.payload(
            device.language,
            f"{settings.public_url}{PAGE_ACK_PATH}",
            tokens.sign_page(secret_key, claim),
        )

    async def one(http: aiohttp.ClientSession, device: PushSubscription, page: PagePush) -> bool:
        """Up to SITCEN_ALERTS_MAX_ATTEMPTS sends, backing off as alert deliveries do and never
        sooner than a Retry-After; a gone device is not tried again."""
        data = body(page, device)
        for attempt in range(1, settings.max_attempts + 1):
            error = await send_once(http, device, data, page.position_id.hex)
            if error is None:
                return True
            if error.final or attempt == settings.max_attempts:
                break
            delay = retry_delay(attempt, settings)
            if error.retry_after is not None:
                delay = max(delay, min(error.retry_after, RETRY_AFTER_MAX_SECONDS))
            await asyncio.sleep(delay)
        return False

    async def send_once(
        http: aiohttp.ClientSession, device: PushSubscription, data: bytes, topic: str
    ) -> push.PushError | None:
        try:
            await push.send(
                http,
                key,
                endpoint=device.endpoint,
                p256dh=device.p256dh,
                auth=device.auth,
                data=data,
                ttl=settings.push_ttl_seconds,
                urgent=True,
                seconds=settings.push_timeout_seconds,
                # RFC 8030 §5.4: a reminder replaces a first page not delivered yet.
                topic=topic,
            )
        except push.PushError as e:
            log.warning("cell: page push to device %s failed: %s", device.id, e)
            if e.gone:
                gone.append(device.id)
            return e
        except Exception as e:  # a fault of ours for one device: the others still go out
            log.exception("cell: page push to device %s failed in sitcen", device.id)
            return push.PushError(f"internal error: {type(e).__name__}", final=True)
        return None

    async with aiohttp.ClientSession() as http:
        sent = await asyncio.gather(
            *(
                one(http, device, page)
                for page in paging.pushes
                for device in devices.get(page.username, [])
            )
        )
    if gone:
        async with sessions() as session, session.begin():
            await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
    return sum(sent)


def announce(hub: Hub, paging: Paging) -> int:
    """After the commit: the `page` messages to the paged users connected to this instance."""
    if not paging.live:
        return 0
    frames: dict[str, list[str]] = defaultdict(list)
    for username, frame in paging.live:
        frames[username].append(frame)

    def frames_for(principal: Principal) -> list[str]:
        return frames.get(principal.actor, []) if principal.kind == "user" else []

    return hub.send_each(frames_for)


async def held_position(
    session: AsyncSession, position_id: uuid.UUID, scope: Scope, organisation: str | None
) -> Position:
    """A seat the caller may answer for, locked: for a partner SPOC only one its organisation
    holds (another answers as an unknown one does); for SITCEN staff any it sees."""
    row = await objects.get(session, SPEC, position_id, scope.clause(Position), for_update=True)
    assert isinstance(row, Position)
    if scope.partner and (organisation is None or row.holder_organisation != organisation):
        raise not_found(SPEC.label, position_id)
    return row


async def _settle_pages(
    session: AsyncSession,
    seat: Position,
    actor: Actor,
    via: AckVia,
    now: datetime,
    answered: uuid.UUID | None = None,
) -> None:
    """The holder answered (`answered`: by acknowledging that page): its organisation's pages
    for this seat, a reminder's too, are acknowledged, so that none goes on escalating."""
    if not seat.holder_organisation:
        return
    query = (
        select(Recipient.alert_id)
        .join(Alert, Alert.id == Recipient.alert_id)
        .where(
            Alert.entity == Entity.position.value,
            Alert.entity_id == seat.id,
            Recipient.organisation == seat.holder_organisation,
            Recipient.acknowledged_at.is_(None),
        )
    )
    if answered is not None:
        query = query.where(Recipient.alert_id != answered)
    open_pages = await session.scalars(query)
    for alert_id in list(open_pages):
        await alerts.acknowledge(
            session, alert_id, seat.holder_organisation, by=actor.name, via=via, now=now
        )


def _via(scope: Scope) -> AckVia:
    return AckVia.rest if scope.partner else AckVia.on_behalf


async def acknowledge(
    session: AsyncSession,
    position_id: uuid.UUID,
    actor: Actor,
    scope: Scope,
    now: datetime,
) -> Written:
    """The holder has the page: presence `acknowledged` (again: nothing changes)."""
    seat = await held_position(session, position_id, scope, actor.organisation)
    if seat.presence in ANSWERED:
        raise conflict(
            f"position {seat.ref} already answered: its presence is {seat.presence}",
            presence=seat.presence,
        )
    written = await objects.update(
        session,
        SPEC,
        seat.id,
        PRESENCE_PATCH(presence=Presence.acknowledged, acknowledged_at=seat.acknowledged_at or now),
        None,
        seat.version,
        actor,
    )
    await _settle_pages(session, seat, actor, _via(scope), now)
    return written


async def acknowledge_pushed(
    session: AsyncSession, token: str, secret_key: str, now: datetime
) -> Written:
    """The "Acknowledge" action of a page's push notification (frontend/src/sw-push.js): its
    signed token names the seat and the user whose device it reached. Acknowledged exactly as
    that user would on /ws or the dashboard (`acknowledge`), if they still hold the seat and are
    an active SITCEN user who may; any other token answers as an invalid one."""
    claim = tokens.verify_page(secret_key, token, now)
    user = await session.get(User, claim.user_id) if claim else None
    seat = await session.get(Position, claim.position_id) if claim else None
    if (
        claim is None
        or user is None
        or seat is None
        or user.disabled
        or user.organisation is not None
        or seat.holder_user != user.username
        or user.role not in Role.__members__
        or not allowed(Role(user.role), "position:acknowledge")
    ):
        raise invalid_link(
            "Cette notification ne permet plus d'accuser réception. / "
            "Met deze melding kan de ontvangst niet meer bevestigd worden. / "
            "This notification can no longer acknowledge the page."
        )
    actor = Actor(user.username, "user", None, user.role)
    return await acknowledge(session, seat.id, actor, Scope(), now)


async def set_presence(
    session: AsyncSession,
    position_id: uuid.UUID,
    presence: Presence,
    actor: Actor,
    scope: Scope,
    now: datetime,
) -> Written:
    """The holder's answer: in the room, taking part remotely, or declined (the arrival time
    follows from the first two)."""
    if presence not in ANSWERED:
        raise validation_problem(
            [{"loc": ["body", "presence"], "msg": "one of present, remote, declined"}]
        )
    seat = await held_position(session, position_id, scope, actor.organisation)
    patch: dict[str, Any] = {"presence": presence}
    if seat.acknowledged_at is None:
        patch["acknowledged_at"] = now  # an answer is an acknowledgement too
    written = await objects.update(
        session, SPEC, seat.id, PRESENCE_PATCH(**patch), None, seat.version, actor
    )
    await _settle_pages(session, seat, actor, _via(scope), now)
    return written


async def page_acknowledged(session: AsyncSession, ack: alerts.Acknowledgement) -> None:
    """An alert paging a seat was acknowledged (REST, /ws, the e-mail's link, or SITCEN on the
    partner's behalf): a seat still `paged` becomes `acknowledged`."""
    if ack.alert.entity_id is None:
        return
    seat = await session.get(Position, ack.alert.entity_id, with_for_update=True)
    if seat is None or seat.holder_organisation != ack.organisation:
        return
    if seat.presence != Presence.paged:
        return
    organisation = None if ack.via == AckVia.on_behalf else ack.organisation
    actor = Actor(ack.by, "user", organisation)
    await objects.update(
        session,
        SPEC,
        seat.id,
        PRESENCE_PATCH(presence=Presence.acknowledged, acknowledged_at=ack.at),
        None,
        seat.version,
        actor,
    )
    await _settle_pages(session, seat, actor, ack.via, ack.at, answered=ack.alert.id)


def listen_for_acknowledgements() -> None:
    """Let alerting tell the cell when a page is acknowledged (app.runtime calls this)."""
    alerts.ON_ACKNOWLEDGED[Entity.position.value] = page_acknowledged


def _state(seat: Position) -> str:
    if not (seat.holder_user or seat.holder_organisation):
        return "unfilled"
    if seat.presence in REACHED:
        return "reached"
    if seat.presence == Presence.declined:
        return "declined"
    return "missing"


async def _pages(session: AsyncSession, seats: list[Position]) -> dict[uuid.UUID, dict[str, Any]]:
    """The latest page of each seat held by an organisation, with its escalation state."""
    ids = [s.id for s in seats if s.holder_organisation]
    if not ids:
        return {}
    holders = {s.id: s.holder_organisation for s in seats}
    rows = await session.execute(
        select(Alert.id, Alert.ref, Alert.entity_id, Alert.sent_at, Recipient)
        .where(Alert.entity_id.is_not(None))
        .join(Recipient, Recipient.alert_id == Alert.id)
        .where(Alert.entity == Entity.position.value, Alert.entity_id.in_(ids))
        .order_by(Alert.id.desc())
    )
    out: dict[uuid.UUID, dict[str, Any]] = {}
    for alert_id, ref, entity_id, sent_at, r in rows:
        if entity_id is None or entity_id in out or r.organisation != holders.get(entity_id):
            continue
        out[entity_id] = {
            "alert": str(alert_id),
            "ref": ref,
            "sent_at": plain(sent_at),
            "level": r.level,
            "escalated_at": plain(r.escalated_at),
            "flagged_at": plain(r.flagged_at),
            "acknowledged_at": plain(r.acknowledged_at),
            "acknowledged_by": r.acknowledged_by,
        }
    return out


async def board(session: AsyncSession, activation_id: uuid.UUID, scope: Scope) -> dict[str, Any]:
    """Who is reached and who is missing in an activation's cell, as far as the caller sees:
    SITCEN every seat; a partner SPOC the seats shared with it (and the activation if it is)."""
    query = select(Activation).where(Activation.id == activation_id)
    clause = scope.clause(Activation)
    activation = await session.scalar(query if clause is None else query.where(clause))
    seats_query = select(Position).where(Position.activation_id == activation_id)
    seat_clause = scope.clause(Position)
    if seat_clause is not None:
        seats_query = seats_query.where(seat_clause)
    seats = list((await session.scalars(seats_query.order_by(Position.id))).all())
    if activation is None and not seats:
        raise not_found("activation", activation_id)
    pages = await _pages(session, seats)
    counts = {p.value: 0 for p in Presence}
    states = {"reached": 0, "missing": 0, "declined": 0, "unfilled": 0}
    listed = []
    for seat in seats:
        counts[seat.presence] += 1
        state = _state(seat)
        states[state] += 1
        own = not scope.partner or seat.holder_organisation == scope.organisation
        listed.append(
            {
                **_seat(seat),
                "discipline": seat.discipline,
                "presence": seat.presence,
                "state": state,
                "paged_at": plain(seat.paged_at),
                "acknowledged_at": plain(seat.acknowledged_at),
                "arrived_at": plain(seat.arrived_at),
                "version": seat.version,
                "page": pages.get(seat.id) if own else None,
            }
        )
    head: dict[str, Any] = {"id": str(activation_id)}
    if activation is not None:
        head.update(
            ref=activation.ref,
            title=activation.title,
            level=activation.level,
            status=activation.status,
            phase=activation.phase,
        )
    return {
        "activation": head,
        "counts": counts,
        **states,
        "total": len(seats),
        "positions": listed,
    }
