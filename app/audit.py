"""The audit trail: authentication events, permission refusals and the pruning of the feed.

Changes to the picture are audited by the change feed; this log holds what the feed cannot:
who logged in, failed, was locked out, used a key, or was refused an action, each pruning
of the feed itself (app.domain.retention), and each purge and export of personal data
(app.privacy).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, insert, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class AuditKind(StrEnum):
    login_success = "login_success"
    login_failure = "login_failure"
    lockout = "lockout"
    token_refresh = "token_refresh"
    # A rotated refresh token presented again: its whole family was revoked.
    refresh_reuse = "refresh_reuse"
    logout = "logout"
    key_use = "key_use"
    key_refused = "key_refused"
    token_refused = "token_refused"
    permission_refused = "permission_refused"
    user_created = "user_created"
    user_changed = "user_changed"
    key_created = "key_created"
    key_revoked = "key_revoked"
    feed_pruned = "feed_pruned"
    # A document's bytes served (app.documents): who, which document and version, when.
    document_download = "document_download"
    document_preview = "document_preview"
    # External feed sources (app.feeds), kept by administrators.
    feed_source_created = "feed_source_created"
    feed_source_changed = "feed_source_changed"
    feed_source_deleted = "feed_source_deleted"
    # Personal data (app.privacy): fields blanked past their retention, and each export of what
    # is held about a named person (the name is the subject).
    personal_data_purged = "personal_data_purged"
    subject_access_export = "subject_access_export"


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_subject", "subject"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(128))  # who it is about (user or key)
    actor: Mapped[str | None] = mapped_column(String(128))  # who did it, when not the subject
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


def _insert(kind: AuditKind, fields: dict[str, Any]) -> Any:
    allowed = {"subject", "actor", "ip", "detail"}
    assert set(fields) <= allowed, set(fields) - allowed
    return insert(AuditEvent).values(
        at=datetime.now(UTC), kind=kind.value, detail=fields.pop("detail", None) or {}, **fields
    )


async def record(session: AsyncSession, kind: AuditKind, **fields: Any) -> None:
    """Record within the caller's transaction (kept only if it commits). Fields: subject (who
    it is about), actor (who did it, when not the subject), ip, detail (a dict)."""
    await session.execute(_insert(kind, fields))


async def record_now(engine: AsyncEngine, kind: AuditKind, **fields: Any) -> None:
    """Record in a transaction of its own: for refusals, whose request transaction rolls back."""
    async with engine.begin() as conn:
        await conn.execute(_insert(kind, fields))


async def events(
    session: AsyncSession,
    *,
    kind: list[str] | None,
    subject: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    before_id: int | None,
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if kind:
        query = query.where(AuditEvent.kind.in_(kind))
    if subject:
        query = query.where(AuditEvent.subject == subject)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at <= until)
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    return list((await session.scalars(query)).all())
