"""CAP in as a feed: every message received, what it did, and how a later one finds its object.

A CAP feed sends an Alert, then Updates and Cancels naming earlier messages in <references>
(`sender,identifier,sent`). Each message received is a row here, with the object it made or
changed, the object's version once it was applied (`version`, NULL when it was recorded
without being applied) and what the feed has said so far of the fields a message writes
(`said`). So a later message

- finds the object made from the messages it references (`named`), and a late Alert the object
  that an Update naming it made (`naming`);
- is recognised when it is sent again (`earlier`);
- is not applied over the state of a message sent after it (`last_applied`);
- does not overwrite a field someone else changed since the feed wrote it
  (app.alerts.lifecycle.ingest).

Messages are looked up within one *feed*, the client they came through: an API key (by its
source), an external feed polled here (app.feeds) or SITCEN staff, so that one partner's
messages can never name, and so change, what another's made. The messages of a feed are handled
one at a time (a transaction lock per feed): an Update and the Alert it names, or two Updates of
one object, never race each other.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.alerts.lifecycle.cap import CapMessage
from app.auth.principal import Principal
from app.db import Base

# pg_advisory_xact_lock(class, key): "CAPF" in ASCII as the class, recognisable in pg_locks;
# the two-key form never meets the one-key locks taken elsewhere.
LOCK_CLASS = 0x43415046
STAFF = "staff"

Key = tuple[str, str]  # (sender, identifier): CAP makes an identifier unique per sender


class ReceivedMessage(Base):
    __tablename__ = "cap_messages"
    __table_args__ = (
        Index(
            "ux_cap_messages_feed_sender_identifier", "feed", "sender", "identifier", unique=True
        ),
        Index("ix_cap_messages_entity_id", "entity_id"),
        Index("ix_cap_messages_refs", "refs", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    feed: Mapped[str] = mapped_column(String(80))
    sender: Mapped[str] = mapped_column(String(250))
    identifier: Mapped[str] = mapped_column(String(250))
    sent: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    msg_type: Mapped[str] = mapped_column(String(8))
    # The messages it references, as "sender,identifier" (what a late Alert is looked up by).
    refs: Mapped[list[str]] = mapped_column(ARRAY(Text))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # created, linked, updated, cancelled, unchanged (applied); superseded (recorded only).
    outcome: Mapped[str] = mapped_column(String(16))
    version: Mapped[int | None] = mapped_column(Integer)
    said: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_by: Mapped[str] = mapped_column(String(128))

    @property
    def name(self) -> str:
        """The message as a reference names it."""
        return f"{self.sender},{self.identifier},{self.sent.isoformat()}"


def feed_of(principal: Principal) -> str:
    if principal.kind == "apikey":
        return "key:" + (principal.source or principal.name)
    if principal.kind == "system" and principal.source:
        # An external feed polled here (app.feeds): `feed:<name>`, a namespace of its own.
        return principal.name
    return STAFF


def ref_key(key: Key) -> str:
    return f"{key[0]},{key[1]}"


async def lock(session: AsyncSession, feed: str) -> None:
    """Until the transaction ends, the other messages of this feed wait."""
    await session.execute(select(func.pg_advisory_xact_lock(LOCK_CLASS, func.hashtext(feed))))


async def earlier(session: AsyncSession, feed: str, key: Key) -> ReceivedMessage | None:
    """The message received before with this sender and identifier (a retry)."""
    m = ReceivedMessage
    return await session.scalar(
        select(m).where(m.feed == feed, m.sender == key[0], m.identifier == key[1])
    )


async def named(session: AsyncSession, feed: str, keys: list[Key]) -> list[ReceivedMessage]:
    """The messages received that `keys` name, the last sent first."""
    m = ReceivedMessage
    query = select(m).where(m.feed == feed, tuple_(m.sender, m.identifier).in_(keys))
    return list((await session.scalars(query.order_by(m.sent.desc(), m.id.desc()))).all())


async def naming(session: AsyncSession, feed: str, key: Key) -> ReceivedMessage | None:
    """A message received that references this one: the Update that came before its Alert."""
    m = ReceivedMessage
    query = select(m).where(m.feed == feed, m.refs.contains([ref_key(key)]))
    return await session.scalar(query.order_by(m.sent.desc(), m.id.desc()).limit(1))


async def last_applied(session: AsyncSession, entity_id: uuid.UUID) -> ReceivedMessage | None:
    """The last message applied to this object. Messages are applied in the order they were
    sent (an older one is only recorded), so the last applied is also the last sent."""
    m = ReceivedMessage
    query = select(m).where(m.entity_id == entity_id, m.version.is_not(None))
    return await session.scalar(query.order_by(m.id.desc()).limit(1))


async def record(
    session: AsyncSession,
    feed: str,
    message: CapMessage,
    refs: list[Key],
    *,
    entity: str,
    entity_id: uuid.UUID,
    outcome: str,
    version: int | None,
    said: dict[str, Any] | None,
    actor: str,
) -> None:
    session.add(
        ReceivedMessage(
            feed=feed,
            sender=message.sender,
            identifier=message.identifier,
            sent=message.sent,
            msg_type=message.msg_type,
            refs=[ref_key(k) for k in refs],
            entity=entity,
            entity_id=entity_id,
            outcome=outcome,
            version=version,
            said=said,
            received_at=datetime.now(UTC),
            received_by=actor,
        )
    )
    await session.flush()
