"""The rule evaluator: a durable consumer of the change feed.

It reads `changes WHERE seq > cursor ORDER BY seq`, raises the alerts (with their recipients
and deliveries) and advances its persisted cursor in ONE transaction: a crash before the
commit leaves nothing and the batch is read again; after it, the batch is never read again.
So no change is missed or alerted twice across restarts. With several instances, a
transaction-level advisory lock lets one evaluate while the others skip. A change the rules
fail on is set aside as a dead letter after a few attempts (`Evaluator`), not retried for ever.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.enums import MsgType
from app.alerts.lifecycle import compose, service
from app.alerts.models import Alert, RuleMatch
from app.alerts.settings import AlertSettings
from app.alerts.workers.rules import Context, Previous, Rule, Subject, ZoneArea, decide
from app.background import ItemFailed, Loop, record_dead_letter
from app.clock import Clock
from app.db import driver
from app.domain import changes as changes_feed
from app.domain.zone import Zone
from app.errors import database_unreachable
from app.partners.models import AreaKind, Channel, Subscription

log = logging.getLogger(__name__)

# pg_try_advisory_xact_lock key: "alerts" in ASCII, so it is recognisable in pg_locks.
EVALUATOR_LOCK = 0x616C65727473
ACTOR = "system:alerts"
# A step runs about twenty times a second under a stream of writes, usually with nothing to
# alert: its reads go on the driver, and only the changes some rule watches bring their
# Feature (app.db.driver says why).
_HEAD = (
    f"SELECT pg_try_advisory_xact_lock($1), {changes_feed.EVALUATOR_CURSOR_SQL},"
    " (SELECT count(*) FROM subscriptions), (SELECT max(updated_at) FROM subscriptions),"
    " (SELECT count(*) FROM partner_channels), (SELECT max(updated_at) FROM partner_channels)"
)


def rule_of(s: Subscription) -> Rule:
    return Rule.build(
        id=s.id,
        organisation=s.organisation,
        entities=s.entities,
        area_kind=s.area_kind,
        categories=s.categories,
        min_severity=s.min_severity,
        parent_entities=s.parent_entities,
        zone_id=s.zone_id,
        zone_kinds=s.zone_kinds,
        codes=s.codes,
        polygon=s.polygon,
    )


async def load_rules(session: AsyncSession) -> list[Rule]:
    """The active subscriptions, each partner's oldest first: when several of a partner's
    subscriptions match one change, its alert names the oldest."""
    rows = await session.scalars(
        select(Subscription)
        .where(Subscription.active.is_(True))
        .order_by(Subscription.organisation, Subscription.created_at, Subscription.id)
    )
    return [rule_of(s) for s in rows]


@dataclass(frozen=True, slots=True)
class ChangeToEvaluate:
    """A change as the evaluator reads it; `feature` is None unless some rule watches its
    entity."""

    seq: int
    entity: str
    entity_id: uuid.UUID
    op: str
    feature: dict[str, Any] | None


class PartnerCache:
    """The compiled rules and the enabled channels, read again only when subscriptions or
    channels changed: every API write stamps `updated_at` and a removal changes the count
    (delivery outcomes do not touch `updated_at`)."""

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self.rules: list[Rule] = []
        self.entities: list[str] = []
        self.channels: dict[str, list[Channel]] = {}

    async def refresh(self, session: AsyncSession, key: tuple[object, ...]) -> None:
        if key != self._key:
            self.rules = await load_rules(session)
            self.entities = sorted(set().union(*(r.entities for r in self.rules)))
            self.channels = await service.all_channels(session)
            self._key = key


async def load_context(session: AsyncSession, rules: Sequence[Rule], now: datetime) -> Context:
    """The zones the rules refer to: named zones whatever their state, and the active zones of
    the kinds some rule asks for."""
    ids = {r.zone_id for r in rules if r.area_kind == AreaKind.zone and r.zone_id}
    kinds = set().union(*(r.zone_kinds for r in rules if r.area_kind == AreaKind.zone_kinds))
    if not ids and not kinds:
        return Context()
    active = (
        (Zone.status == "active")
        & or_(Zone.valid_from.is_(None), Zone.valid_from <= now)
        & or_(Zone.valid_to.is_(None), Zone.valid_to >= now)
    )
    query = select(
        Zone.id,
        Zone.kind,
        active.label("active"),
        func.ST_AsGeoJSON(Zone.geom).label("g"),
        Zone.visibility,
        Zone.shared_with,
    ).where(Zone.geom.is_not(None), or_(Zone.id.in_(ids), Zone.kind.in_(kinds) & active))
    zones = {
        row.id: ZoneArea.of(
            row.id,
            row.kind,
            bool(row.active),
            orjson.loads(row.g),
            visibility=row.visibility,
            shared_with=row.shared_with or (),
        )
        for row in (await session.execute(query)).all()
    }
    return Context(zones)


@dataclass
class Group:
    """The rules that decided the same thing about one change: one alert for all their
    partners. `current` False: a Cancel to partners that no longer see the object, composed
    from the alert it references rather than from the change."""

    decision_type: MsgType
    references: uuid.UUID | None
    current: bool
    # Each partner with the subscription its alert names (its first rule that matched).
    subscriptions: dict[str, uuid.UUID] = field(default_factory=dict)
    matches: list[tuple[uuid.UUID, str]] = field(default_factory=list)  # (rule id, fingerprint)


GroupKey = tuple[MsgType, uuid.UUID | None, bool]


async def evaluate(
    session: AsyncSession,
    changes: Sequence[ChangeToEvaluate],
    cache: PartnerCache,
    settings: AlertSettings,
    now: datetime,
) -> list[service.NewAlert]:
    """Raise the alerts a batch of changes calls for."""
    rules = cache.rules
    relevant = [c for c in changes if c.feature is not None]
    if not relevant:
        return []
    context = await load_context(session, rules, now)
    previous = await _previous(session, rules, {c.entity_id for c in relevant})
    raised: list[service.NewAlert] = []
    for change in relevant:
        assert change.feature is not None
        subject = Subject(change.entity, change.entity_id, change.op, change.feature)
        groups: dict[GroupKey, Group] = {}
        for rule in rules:
            decision = decide(rule, subject, context, previous.get((rule.id, change.entity_id)))
            if decision is None:
                continue
            key = (decision.msg_type, decision.references, decision.current)
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(*key)
            group.subscriptions.setdefault(rule.organisation, rule.id)
            group.matches.append((rule.id, decision.fingerprint))
        seen = await _alerted_states(
            session, [g.references for g in groups.values() if not g.current and g.references]
        )
        for group in groups.values():
            about = subject
            if not group.current:
                assert group.references is not None  # a Cancel references the alert it ends
                about = Subject(change.entity, change.entity_id, "updated", seen[group.references])
            new = await _raise(session, about, change, group, settings, now, cache.channels)
            for rule_id, fingerprint in group.matches:
                previous[(rule_id, change.entity_id)] = Previous(new.alert.id, fingerprint)
            await _remember(session, change.entity_id, group, new.alert.id)
            raised.append(new)
    return raised


async def _alerted_states(
    session: AsyncSession, alert_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The object's state each of these alerts was composed from: what its partners saw.

    Read only for the Cancels to partners that lost sight of an object, which are rare: the
    rule matches do not carry a copy of the Feature per partner, and an alert holds it once
    for all its recipients."""
    if not alert_ids:
        return {}
    rows = await session.execute(select(Alert.id, Alert.feature).where(Alert.id.in_(alert_ids)))
    # Migration 0007 gave every earlier rule alert the Feature of the change that raised it;
    # should one still lack it, its Cancel carries no state at all rather than the current one.
    return {row.id: row.feature or {"type": "Feature", "geometry": None} for row in rows}


async def _previous(
    session: AsyncSession, rules: Sequence[Rule], entity_ids: set[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], Previous]:
    rows = await session.scalars(
        select(RuleMatch).where(
            RuleMatch.subscription_id.in_([r.id for r in rules]),
            RuleMatch.entity_id.in_(entity_ids),
        )
    )
    return {(m.subscription_id, m.entity_id): Previous(m.alert_id, m.fingerprint) for m in rows}


async def _raise(
    session: AsyncSession,
    subject: Subject,
    change: ChangeToEvaluate,
    group: Group,
    settings: AlertSettings,
    now: datetime,
    channels: dict[str, list[Channel]],
) -> service.NewAlert:
    draft = compose.from_change(
        subject,
        group.decision_type,
        references_id=group.references,
        change_seq=change.seq,
        now=now,
    )
    return await service.create_alert(
        session,
        draft,
        sorted(group.subscriptions),
        actor=ACTOR,
        settings=settings,
        now=now,
        channels=channels,
        subscriptions=group.subscriptions,
    )


async def _remember(
    session: AsyncSession, entity_id: uuid.UUID, group: Group, alert_id: uuid.UUID
) -> None:
    rows = [
        {"subscription_id": r, "entity_id": entity_id, "fingerprint": f, "alert_id": alert_id}
        for r, f in group.matches
    ]
    # The rows as parameters of one statement compiled once: a VALUES list written out per
    # call cost SQLAlchemy 20-30 ms to compile for a hundred partners, on every alert.
    await session.execute(_REMEMBER, rows)


_upsert = pg_insert(RuleMatch)
_REMEMBER = _upsert.on_conflict_do_update(
    index_elements=["subscription_id", "entity_id"],
    set_={"fingerprint": _upsert.excluded.fingerprint, "alert_id": _upsert.excluded.alert_id},
)


Raised = Callable[[list[service.NewAlert]], None]
_SET_ASIDE_HEAD = f"SELECT pg_try_advisory_xact_lock($1), {changes_feed.EVALUATOR_CURSOR_SQL}"


class Evaluator:
    """The worker: woken by the change feed's NOTIFY, with a periodic poll as a safety net.

    `before_commit` and `after_commit` see the alerts a batch raised: the live push uses them
    to send this instance's clients the alert at once, from memory, without waiting for the
    NOTIFY and reading it back (the other instances do that).

    A change the rules cannot handle (an exception other than the database being unreachable)
    does not stop the cursor for ever: the batch it was in is evaluated again one change at a
    time, so that every other change is alerted exactly once as usual, and the one at fault,
    after `MAX_ATTEMPTS` failures, is set aside as a dead letter with its error while the cursor
    moves past it, in one transaction."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: AlertSettings,
        clock: Clock,
        before_commit: Raised | None = None,
        after_commit: Raised | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock
        self._before_commit = before_commit
        self._after_commit = after_commit
        self.loop = Loop(
            "alerts-evaluate",
            self._loop_step,
            poll_seconds=settings.poll_seconds,
            min_interval=settings.evaluate_interval_seconds,
            set_aside=self._set_aside,
        )
        self.wake = self.loop.wake
        self.batches = 0
        self._cache = PartnerCache()
        # Up to this seq, changes are evaluated one at a time: a batch failed among them.
        self._isolate_until = 0

    async def step(self) -> bool:
        """Evaluate one batch; True when a full batch was read (more may wait)."""
        settings = self._settings
        async with self._sessions() as session, session.begin():
            db = await driver(session)
            # Only the holder of the lock moves the cursor, so reading it needs no row lock.
            locked, cursor, *cache_key = await db.fetchrow(_HEAD, EVALUATOR_LOCK)
            if not locked:
                return False  # another instance is evaluating; its NOTIFY-driven loop covers us
            await self._cache.refresh(session, tuple(cache_key))
            limit = 1 if cursor < self._isolate_until else settings.evaluate_batch
            rows = await changes_feed.evaluator_batch(db, cursor, limit, self._cache.entities)
            if not rows:
                return False
            changes = [ChangeToEvaluate(*row) for row in rows]
            try:
                raised = await evaluate(session, changes, self._cache, settings, self._clock())
            except Exception as error:
                if database_unreachable(error):
                    raise
                if len(changes) == 1:
                    seq = changes[0].seq
                    raise ItemFailed(f"change {seq}", seq, error) from error
                self._isolate_until = changes[-1].seq
                raise
            await changes_feed.advance_cursor(db, changes_feed.ALERTS_CURSOR, changes[-1].seq)
            if raised and self._before_commit:
                self._before_commit(raised)
        if raised and self._after_commit:
            self._after_commit(raised)
        return len(changes) == limit

    async def run(self) -> None:
        await self.loop.run()

    async def _loop_step(self) -> float | None:
        more = await self.step()
        self.batches += 1
        return 0.0 if more else None

    async def _set_aside(self, seq: int, error: BaseException, attempts: int) -> bool:
        """Record the change as a dead letter and move the cursor past it, if the cursor still
        stands just before it (another instance may have dealt with it meanwhile)."""
        async with self._sessions() as session, session.begin():
            db = await driver(session)
            locked, cursor = await db.fetchrow(_SET_ASIDE_HEAD, EVALUATOR_LOCK)
            if not locked or cursor != seq - 1:
                return False
            now = self._clock()
            await record_dead_letter(session, self.loop.name, f"change {seq}", error, attempts, now)
            await changes_feed.advance_cursor(db, changes_feed.ALERTS_CURSOR, seq)
        return True
