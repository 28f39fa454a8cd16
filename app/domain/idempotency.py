"""Idempotency keys: a retried create (same key, same client) returns the first object."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, String, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.enums import Entity
from app.errors import idempotency_key_reused


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    actor: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


async def claim_key(
    session: AsyncSession, actor: str, key: str, entity: Entity, fingerprint: str
) -> uuid.UUID | None:
    """Claim the key for this request, or return the object an earlier request created with it.

    A concurrent request with the same key blocks on the primary key until the first commits,
    then sees its row: so a race yields one object.
    """
    claimed = (
        await session.execute(
            text(
                """INSERT INTO idempotency_keys (actor, key, entity, fingerprint, created_at)
                   VALUES (:actor, :key, :entity, :fp, now())
                   ON CONFLICT DO NOTHING RETURNING key"""
            ),
            {"actor": actor, "key": key, "entity": entity.value, "fp": fingerprint},
        )
    ).first()
    if claimed is not None:
        return None
    earlier = (
        await session.execute(
            text(
                "SELECT entity, entity_id, fingerprint FROM idempotency_keys"
                " WHERE actor = :a AND key = :k"
            ),
            {"a": actor, "k": key},
        )
    ).one()
    if earlier.entity != entity.value or earlier.fingerprint != fingerprint:
        raise idempotency_key_reused(key)
    entity_id: uuid.UUID | None = earlier.entity_id
    return entity_id


async def record_key_target(
    session: AsyncSession, actor: str, key: str, entity_id: uuid.UUID
) -> None:
    await session.execute(
        text("UPDATE idempotency_keys SET entity_id = :id WHERE actor = :a AND key = :k"),
        {"id": entity_id, "a": actor, "k": key},
    )
