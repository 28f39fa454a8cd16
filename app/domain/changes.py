"""The change feed: one gap-free, commit-ordered log of every write (DESIGN §3)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Integer,
    String,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, driver
from app.domain.enums import ChangeOp, Entity

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


class FeedCounter(Base):
    """One row holding the last sequence number handed out."""

    __tablename__ = "feed_counter"
    __table_args__ = (CheckConstraint("id = 1", name="feed_counter_single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


# The sequence number and time are assigned at commit by a deferred trigger that takes the
# one-row counter lock (migration 0002): gap-free, in commit order, and the lock is held only
# for the commit itself. The trigger also sends the NOTIFY.
APPEND_SQL = "INSERT INTO changes (entity, entity_id, op, version, actor, at, feature)"
_APPEND = f"{APPEND_SQL} VALUES ($1, $2, $3, $4, $5, clock_timestamp(), $6::text::jsonb)"


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
    # record within its own INSERT statement (objects._insert_statement).
    await (await driver(session)).execute(
        _APPEND, entity.value, entity_id, op.value, version, actor, orjson.dumps(feature).decode()
    )


async def head(session: AsyncSession) -> int:
    return int(
        (await session.execute(text("SELECT seq FROM feed_counter WHERE id = 1"))).scalar_one()
    )


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
    session: AsyncSession, since: int, limit: int, entities: list[str] | None = None
) -> list[Change]:
    query = select(Change).where(Change.seq > since).order_by(Change.seq).limit(limit)
    if entities:
        query = query.where(Change.entity.in_(entities))
    return list((await session.scalars(query)).all())


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
