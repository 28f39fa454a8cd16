"""The change feed: one gap-free, commit-ordered log of every write (DESIGN §3).

Every read and write of the feed is here, as SQL or as a function; no other module names its
tables (`changes`, `feed_counter`, `feed_horizon`) or the cursors of its durable consumers
(`feed_cursors`), so a new field on the change record touches this file only
(tests/test_feed_module.py keeps it so).

The contract with the database (migration 0002, trigger `changes_seq_at_commit`):

- A writer appends its record in its own transaction with `seq` NULL (`append_change`, or the
  `created` record a create writes in its one statement, `created_record`).
- At commit a deferred constraint trigger takes the one-row `feed_counter` lock, gives the
  record the next number and the commit time (`at`), and sends `NOTIFY sitcen_changes` with the
  number as payload. The lock is held only for the commit itself.
- So numbers are gap-free and in commit order, and readers see only numbered records: reading
  `seq > last` in order never skips a record that commits later. A NOTIFY only says "read";
  readers always read from the table, so a lost or coalesced notification costs latency at
  worst.
- Retention (app.domain.retention) deletes old records behind a horizon (`feed_horizon`): every
  record from its `seq` on is kept, and the picture is exact at every time from its `at` on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    DateTime,
    Identity,
    Index,
    Integer,
    String,
    and_,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from app.db import Base, driver
from app.domain.enums import ChangeOp, Entity
from app.domain.visibility import Scope

NOTIFY_CHANNEL = "sitcen_changes"


class Change(Base):
    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_entity_id_seq", "entity_id", "seq"),
        Index("ix_changes_entity_at", "entity", "at"),
        Index("ux_changes_seq", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    # Set at commit by the trigger changes_seq_at_commit (migration 0002); never NULL once
    # committed, so readers (`seq > n`) only ever see numbered records.
    seq: Mapped[int] = mapped_column(BigInteger, nullable=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    op: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    feature: Mapped[dict[str, Any]] = mapped_column(JSONB)


class FeedHorizon(Base):
    """One row: how far the feed was pruned (app.domain.retention). Every change from `seq` on
    is kept, and the picture is exact at every time from `at` on; `at` NULL: never pruned."""

    __tablename__ = "feed_horizon"
    __table_args__ = (CheckConstraint("id = 1", name="feed_horizon_single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FeedCursor(Base):
    """How far each durable consumer of the feed has read: the last seq it fully handled, one
    row per consumer (`ALERTS_CURSOR`, `PROCEDURES_CURSOR`). A consumer moves its cursor in the
    transaction that does what the changes call for, so none is missed or handled twice."""

    __tablename__ = "feed_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


# The consumers: the alert evaluator (app.alerts.workers.evaluator), and the starter of standard
# procedures' checklists (app.cell.triggers).
ALERTS_CURSOR = "alerts"
PROCEDURES_CURSOR = "procedures"
CONFLICTS_CURSOR = "conflicts"  # the conflict watcher (app.planning.watch)


class FeedCounter(Base):
    """One row holding the last sequence number handed out."""

    __tablename__ = "feed_counter"
    __table_args__ = (CheckConstraint("id = 1", name="feed_counter_single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


# The columns a writer gives; `seq` (and the final `at`) come from the trigger at commit.
_APPEND_INTO = "INSERT INTO changes (entity, entity_id, op, version, actor, at, feature)"
_APPEND = f"{_APPEND_INTO} VALUES ($1, $2, $3, $4, $5, clock_timestamp(), $6::text::jsonb)"


def created_record(
    *, entity: str, actor: str, feature: str, derived: str, rows: str, order: str = ""
) -> str:
    """The CTE `change` of a create's one statement (app.domain.objects): the `created` record,
    version 1, for each row of `rows` (a FROM list naming a CTE `written` that RETURNs the new
    row's `id`). `entity` and `actor` are SQL expressions (parameters); `feature` is a jsonb
    expression of the Feature as written, completed with `derived`, a jsonb object of what the
    statement itself derives (the reference, the areas). `order`: an ORDER BY expression, for
    several rows: the records are numbered at commit in the order they were written."""
    return f"""change AS ({_APPEND_INTO}
                SELECT {entity}, written.id, 'created', 1, {actor}, clock_timestamp(),
                       jsonb_set({feature}, '{{properties}}',
                                 ({feature} -> 'properties') || {derived})
                FROM {rows}{f" ORDER BY {order}" if order else ""})"""


async def append_change(
    session: AsyncSession,
    *,
    entity: Entity,
    entity_id: uuid.UUID,
    op: ChangeOp,
    version: int,
    actor: str,
    feature: dict[str, Any],
) -> None:
    # On the driver: this runs for every write (see app.db.driver). A create writes its
    # record within its own INSERT statement (created_record).
    await (await driver(session)).execute(
        _APPEND, entity.value, entity_id, op.value, version, actor, orjson.dumps(feature).decode()
    )


_REDACT = """
UPDATE changes SET feature = jsonb_set(feature, '{properties}',
                                       (feature -> 'properties') || $3::text::jsonb)
WHERE entity = $1 AND entity_id = $2 AND seq IS NOT NULL
  AND NOT (feature -> 'properties') @> $3::text::jsonb
"""


async def redact_history(
    session: AsyncSession, entity: Entity, entity_id: uuid.UUID, blank: dict[str, Any]
) -> int:
    """Blank these properties in every committed record of one object (app.privacy.purge), so
    that neither the feed's replay nor `?at=` brings back what a purge removed. The records keep
    their number, operation, version, actor and time: the feed stays whole and in order. The
    number of records rewritten."""
    result = await (await driver(session)).execute(
        _REDACT, entity.value, entity_id, orjson.dumps(blank).decode()
    )
    return int(result.split()[-1])


# The feed's own bookkeeping, which holds no one's words (app.privacy.subject_access).
BOOKKEEPING_TABLES = {
    "feed_counter": "the change feed's counter",
    "feed_horizon": "how far the change feed was pruned",
    "feed_cursors": "how far each worker read the change feed",
}
HEAD_SQL = "SELECT seq FROM feed_counter WHERE id = 1"
_HEAD = text(HEAD_SQL)


async def head(session: AsyncSession) -> int:
    """The last number handed out: every record up to it is committed and readable."""
    return int((await session.execute(_HEAD)).scalar_one())


_UNPUBLISHED_AGE = text(
    "SELECT extract(epoch FROM clock_timestamp() - at) FROM changes"
    " WHERE seq > :after ORDER BY seq LIMIT 1"
)


async def unpublished_age(session: AsyncSession, after: int) -> float:
    """How old, in seconds by the database's clock, the oldest committed change after seq
    `after` is; 0 when there is none (a reader at `after` has everything)."""
    age = (await session.execute(_UNPUBLISHED_AGE, {"after": after})).scalar_one_or_none()
    return max(0.0, float(age)) if age is not None else 0.0


@dataclass(frozen=True, slots=True)
class Kept:
    """What the feed still holds: every change from `oldest` on (None: no change at all), and
    the picture at every time from `since` on (None: since the beginning)."""

    oldest: int | None
    since: datetime | None


_KEPT = text(
    "SELECT CASE WHEN h.at IS NULL THEN (SELECT min(seq) FROM changes) ELSE h.seq END, h.at"
    " FROM feed_horizon h WHERE h.id = 1"
)


async def kept(session: AsyncSession) -> Kept:
    oldest, since = (await session.execute(_KEPT)).one()
    return Kept(None if oldest is None else int(oldest), since)


async def oldest_kept(session: AsyncSession) -> int | None:
    return (await kept(session)).oldest


def no_longer_kept(since: int, head: int, oldest: int | None) -> bool:
    """Whether some change after `since` was pruned: the reader must reload a snapshot."""
    return since < head and (oldest is None or since < oldest - 1)


async def changes_after(
    session: AsyncSession,
    since: int,
    limit: int,
    entities: list[str] | None = None,
    until: datetime | None = None,
) -> list[Change]:
    """Records after `since`, in order; with `until`, only those committed at or before it (a
    replay reads the feed up to its play head)."""
    query = select(Change).where(Change.seq > since).order_by(Change.seq).limit(limit)
    if entities:
        query = query.where(Change.entity.in_(entities))
    if until is not None:
        query = query.where(Change.at <= until)
    return list((await session.scalars(query)).all())


async def seq_at(session: AsyncSession, at: datetime) -> int:
    """The feed position of the picture at `at`: the last record committed at or before it (0:
    none). Numbers and commit times are given together under the counter's lock, so the records
    up to it are exactly those that `?at=` reads (states_at)."""
    last = await session.scalar(select(func.max(Change.seq)).where(Change.at <= at))
    return int(last or 0)


async def visible_messages(
    session: AsyncSession, records: list[Change], scope: Scope
) -> list[dict[str, Any]]:
    """The wire form of each record this scope sees; for an object that leaves the scope (e.g.
    unshared from a partner), a `removed` record with nothing of its new state."""
    visible = []
    for c in records:
        if scope.sees(c.feature["properties"]):
            visible.append(change_message(c))
        elif not scope.everything and c.op != "created":
            before = await previous_feature(session, c)
            if before is not None and scope.sees(before["properties"]):
                visible.append(removed_message(c))
    return visible


async def window_records(
    session: AsyncSession, start: datetime, end: datetime, after: int, limit: int
) -> list[Change]:
    """The records committed after `start` and up to `end`, from seq `after` on, in order, at
    most `limit` of them (a replay window read page by page)."""
    query = (
        select(Change)
        .where(Change.at > start, Change.at <= end, Change.seq > after)
        .order_by(Change.seq)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def marked_records(
    session: AsyncSession,
    entities: list[str],
    start: datetime,
    end: datetime,
    after: int,
    limit: int,
) -> list[tuple[Change, dict[str, Any] | None]]:
    """The records of these kinds committed after `start` and up to `end`, from seq `after` on,
    in order, at most `limit` of them, each with its object's state before it (None for a
    create): the timeline's bookmarks are read from them (app.domain.timeline)."""
    earlier = aliased(Change)
    previous = (
        select(earlier.feature)
        .where(earlier.entity_id == Change.entity_id, earlier.seq < Change.seq)
        .order_by(earlier.seq.desc())
        .limit(1)
        .correlate(Change)
        .scalar_subquery()
    )
    query = (
        select(Change, previous)
        .where(Change.entity.in_(entities), Change.at > start, Change.at <= end, Change.seq > after)
        .order_by(Change.seq)
        .limit(limit)
    )
    return [(c, p) for c, p in (await session.execute(query)).all()]


async def changes_between(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    entities: list[str],
    limit: int,
    *,
    activation: uuid.UUID | None = None,
    activation_entities: list[str] = [],  # noqa: B006  # read, never changed
) -> tuple[list[Change], int]:
    """The changes committed after `start` and up to `end` of these kinds, and of those of
    `activation_entities` that belong to `activation`: newest first, at most `limit` of them,
    and how many there are in all (a SITREP's "what changed")."""
    kinds: ColumnElement[bool] = Change.entity.in_(entities)
    if activation is not None and activation_entities:
        own = Change.feature["properties"]["activation_id"].astext == str(activation)
        kinds = or_(kinds, and_(Change.entity.in_(activation_entities), own))
    window = (Change.at > start, Change.at <= end, kinds)
    total = await session.scalar(select(func.count()).select_from(Change).where(*window))
    query = select(Change).where(*window).order_by(Change.seq.desc()).limit(limit)
    return list((await session.scalars(query)).all()), int(total or 0)


async def history(session: AsyncSession, entity: Entity, entity_id: uuid.UUID) -> list[Change]:
    query = (
        select(Change)
        .where(Change.entity == entity.value, Change.entity_id == entity_id)
        .order_by(Change.seq)
    )
    return list((await session.scalars(query)).all())


@dataclass(frozen=True, slots=True)
class FeedChange:
    """A change read as a plain record, as the listener reads every change: an ORM instance
    costs several times more to build."""

    seq: int
    entity: str
    entity_id: uuid.UUID
    op: str
    version: int
    actor: str
    at: datetime
    feature: dict[str, Any]


ChangeRecord = Change | FeedChange


def removed_message(change: ChangeRecord) -> dict[str, Any]:
    """What a reader gets when an object it could see leaves its scope (e.g. unshared): that it
    is gone, and nothing of its new state."""
    return {
        "seq": change.seq,
        "entity": change.entity,
        "op": "removed",
        "id": str(change.entity_id),
        "at": change.at.isoformat(),
        "feature": None,
    }


async def previous_feature(session: AsyncSession, change: Change) -> dict[str, Any] | None:
    query = (
        select(Change.feature)
        .where(Change.entity_id == change.entity_id, Change.seq < change.seq)
        .order_by(Change.seq.desc())
        .limit(1)
    )
    feature: dict[str, Any] | None = (await session.execute(query)).scalar()
    return feature


def change_message(change: ChangeRecord) -> dict[str, Any]:
    """The wire form of a change, shared by GET /api/changes and the WebSocket stream."""
    return {
        "seq": change.seq,
        "entity": change.entity,
        "op": change.op,
        "id": str(change.entity_id),
        "version": change.version,
        "at": change.at.isoformat(),
        "by": change.actor,
        "feature": change.feature,
    }


# --- The realtime layer's read: records after a seq, each with its object's previous state --

# With each record, the object's state before it, so that a filter also lets through the
# change that takes an object out of it (moved out of the box, severity lowered): a map must
# remove it. JSON as text, decoded once by the reader whatever codecs the connection has.
_READ_AFTER = """
    SELECT c.seq, c.entity, c.entity_id, c.op, c.version, c.actor, c.at,
           c.feature::text AS feature,
           CASE WHEN c.op = 'created' THEN NULL ELSE (
               SELECT e.feature::text FROM changes e
               WHERE e.entity_id = c.entity_id AND e.seq < c.seq
               ORDER BY e.seq DESC LIMIT 1) END AS previous
    FROM changes c
    WHERE c.seq > $1
    ORDER BY c.seq
    LIMIT $2
"""


async def read_after_with_previous(
    connection: asyncpg.Connection, since: int, limit: int
) -> list[asyncpg.Record]:
    """Records with seq > since, in order, on a plain driver connection (the listener's, or a
    replaying client's): seq, entity, entity_id, op, version, actor, at, feature and previous
    (the last two as JSON text)."""
    rows: list[asyncpg.Record] = await connection.fetch(_READ_AFTER, since, limit)
    return rows


# --- Time travel: each object's last record at or before an instant -----------------------


def states_at(entity: Entity, at: datetime) -> Any:
    """A subquery of each object's last record (entity_id, op, feature) at or before `at`; the
    picture then is those whose op is not `deleted`."""
    return (
        select(Change.entity_id, Change.op, Change.feature)
        .where(Change.entity == entity.value, Change.at <= at)
        .ext(distinct_on(Change.entity_id))
        .order_by(Change.entity_id, Change.seq.desc())
        .subquery()
    )


async def state_at(
    session: AsyncSession, entity: Entity, entity_id: uuid.UUID, at: datetime
) -> tuple[str, dict[str, Any]] | None:
    """One object's last record at or before `at`: (op, feature), or None before it existed."""
    row = (
        await session.execute(
            select(Change.op, Change.feature)
            .where(Change.entity == entity.value, Change.entity_id == entity_id, Change.at <= at)
            .order_by(Change.seq.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else (row.op, row.feature)


@dataclass(frozen=True, slots=True)
class Touched:
    """An object written in a stretch of time (a shift): its last record in it, whether it was
    created in it, and, if not, its last record before (None: pruned or never)."""

    entity: str
    entity_id: uuid.UUID
    op: str
    feature: dict[str, Any]
    at: datetime
    actor: str
    created: bool
    before: dict[str, Any] | None


async def touched_between(
    session: AsyncSession, entities: list[str], start: datetime, until: datetime
) -> tuple[int, list[Touched]]:
    """How many records were committed after `start` and up to `until` (commit times), and the
    objects they wrote, each once, in the order of their last record."""
    window = (Change.entity.in_(entities), Change.at > start, Change.at <= until)
    records = await session.scalar(select(func.count()).select_from(Change).where(*window)) or 0
    last = (
        await session.execute(
            select(
                Change.seq,
                Change.entity,
                Change.entity_id,
                Change.op,
                Change.feature,
                Change.at,
                Change.actor,
            )
            .where(*window)
            .ext(distinct_on(Change.entity_id))
            .order_by(Change.entity_id, Change.seq.desc())
        )
    ).all()
    created = set(
        await session.scalars(
            select(Change.entity_id).where(*window, Change.op == ChangeOp.created.value)
        )
    )
    older = [r.entity_id for r in last if r.entity_id not in created]
    before: dict[uuid.UUID, dict[str, Any]] = {}
    if older:
        rows = await session.execute(
            select(Change.entity_id, Change.feature)
            .where(Change.entity_id.in_(older), Change.at <= start)
            .ext(distinct_on(Change.entity_id))
            .order_by(Change.entity_id, Change.seq.desc())
        )
        before = {entity_id: feature for entity_id, feature in rows}
    touched = [
        Touched(
            r.entity,
            r.entity_id,
            r.op,
            r.feature,
            r.at,
            r.actor,
            r.entity_id in created,
            before.get(r.entity_id),
        )
        for r in sorted(last, key=lambda r: r.seq)
    ]
    return records, touched


# --- Durable consumers: each reads after its cursor, and moves it as it commits its work -----


def cursor_sql(name: str) -> str:
    """A SQL subquery of a consumer's cursor (`name`: one of the *_CURSOR constants)."""
    return f"(SELECT seq FROM feed_cursors WHERE name = '{name}')"


_CURSOR_ADVANCE = "UPDATE feed_cursors SET seq = $2 WHERE name = $1"
_CURSOR_LOCKED = (
    "SELECT pg_try_advisory_xact_lock($1), (SELECT seq FROM feed_cursors WHERE name = $2)"
)


async def advance_cursor(db: asyncpg.Connection, name: str, seq: int) -> None:
    """Move a consumer's cursor; in the transaction that did what its changes called for."""
    await db.execute(_CURSOR_ADVANCE, name, seq)


async def locked_cursor(db: asyncpg.Connection, lock: int, name: str) -> int | None:
    """A consumer's cursor if this transaction got the consumer's advisory lock (`lock`), else
    None: another instance is reading, and only the holder moves the cursor."""
    locked, seq = await db.fetchrow(_CURSOR_LOCKED, lock, name)
    return int(seq) if locked else None


# The changes of the watched entities with their Feature, and for an update the object's state
# before it: a consumer reacting to what *became* true (an incident raised to severe) compares.
_FOLLOWER_BATCH = """
    SELECT c.seq, c.entity, c.entity_id, c.op,
           CASE WHEN c.entity = ANY($3::text[]) AND c.op <> 'deleted'
                THEN c.feature::text END AS feature,
           CASE WHEN c.entity = ANY($3::text[]) AND c.op = 'updated' THEN (
               SELECT e.feature::text FROM changes e
               WHERE e.entity_id = c.entity_id AND e.seq < c.seq
               ORDER BY e.seq DESC LIMIT 1) END AS previous
    FROM changes c
    WHERE c.seq > $1
    ORDER BY c.seq
    LIMIT $2
"""


async def follower_batch(
    db: asyncpg.Connection, cursor: int, limit: int, watched: list[str]
) -> list[asyncpg.Record]:
    """The next records after `cursor`: seq, entity, entity_id, op, and where the entity is
    `watched` the Feature (unless deleted) and, for an update, the previous one (JSON text)."""
    rows: list[asyncpg.Record] = await db.fetch(_FOLLOWER_BATCH, cursor, limit, watched)
    return rows


async def cursor_lag(session: AsyncSession, name: str) -> int | None:
    """Records committed and not yet handled by a consumer."""
    lag = await session.scalar(
        text(f"SELECT f.seq - {cursor_sql(name)} FROM feed_counter f WHERE f.id = 1")
    )
    return None if lag is None else int(lag)


# --- The alert evaluator (app.alerts.workers.evaluator) ---------------------------------------

EVALUATOR_CURSOR_SQL = cursor_sql(ALERTS_CURSOR)
# Only the changes of entities some rule watches bring their Feature: a step runs about twenty
# times a second under a stream of writes, usually with nothing to alert.
_EVALUATOR_BATCH = (
    "SELECT seq, entity, entity_id, op,"
    " CASE WHEN entity = ANY($3::text[]) THEN feature END AS feature"
    " FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2"
)


async def evaluator_batch(
    db: asyncpg.Connection, cursor: int, limit: int, watched: list[str]
) -> list[asyncpg.Record]:
    """The next records after the evaluator's cursor: seq, entity, entity_id, op and the
    Feature where the entity is `watched` (else NULL)."""
    rows: list[asyncpg.Record] = await db.fetch(_EVALUATOR_BATCH, cursor, limit, watched)
    return rows


async def evaluator_lag(session: AsyncSession) -> int | None:
    """Records committed and not yet evaluated."""
    return await cursor_lag(session, ALERTS_CURSOR)


# --- Retention (app.domain.retention decides; these are its statements) ---------------------

# The new horizon: the first change at or after the cutoff ($2), or the first change a consumer
# has not read, whichever comes first: the procedures' starter runs in every instance, the alert
# evaluator where alerting does ($3).
PRUNE_PLAN = f"""
SELECT pg_try_advisory_xact_lock($1), h.seq, h.at, LEAST(
    COALESCE((SELECT seq FROM changes WHERE at >= $2 ORDER BY seq LIMIT 1), f.seq + 1),
    CASE WHEN $3 THEN (SELECT min(seq) FROM feed_cursors)
         ELSE {cursor_sql(PROCEDURES_CURSOR)} END + 1)
FROM feed_horizon h, feed_counter f WHERE h.id = 1 AND f.id = 1
"""
PRUNE_MOVE_HORIZON = "UPDATE feed_horizon SET seq = $1, at = $2 WHERE id = 1"
PRUNE_TIME_OF = "SELECT at FROM changes WHERE seq = $1"
# One batch: the next `$3` changes before the horizon (`$2`) after `$1`; of them, those a later
# change of the same object before the horizon supersedes, and those that deleted their object.
PRUNE_BATCH = """
WITH examined AS (
    SELECT id, seq, entity_id, op FROM changes
    WHERE seq > $1 AND seq < $2 ORDER BY seq LIMIT $3
), doomed AS (
    SELECT e.id FROM examined e
    WHERE e.op = 'deleted' OR EXISTS (
        SELECT 1 FROM changes n WHERE n.entity_id = e.entity_id AND n.seq > e.seq AND n.seq < $2)
), gone AS (
    DELETE FROM changes c USING doomed d WHERE c.id = d.id RETURNING 1
)
SELECT (SELECT max(seq) FROM examined), (SELECT count(*) FROM gone)
"""
