"""A feed source: what an administrator configured (where, how often, what it makes, the area
it concerns, how far it is trusted) and what the poller last saw of it (its health)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class FeedSource(Base):
    __tablename__ = "feed_sources"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    poll_seconds: Mapped[int] = mapped_column(Integer)
    # What a message makes: an incident, or a zone of `zone_kind` (app.alerts.lifecycle.ingest).
    entity: Mapped[str] = mapped_column(String(16))
    zone_kind: Mapped[str | None] = mapped_column(String(32))
    # NIS codes of the municipalities it concerns; empty: the whole Region.
    municipalities: Mapped[list[str]] = mapped_column(ARRAY(String(8)))
    outside: Mapped[str] = mapped_column(String(8))
    trust: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(128))

    # The poller's state: conditional-request validators, kept only once every entry of the
    # document they answer for was handled (else a 304 would hide an entry still to fetch).
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # Keys of the entries handled, among those the feed last listed.
    seen: Mapped[list[str]] = mapped_column(JSONB)
    next_poll_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Health.
    last_polled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer)  # consecutive failed polls
    messages_ingested: Mapped[int] = mapped_column(BigInteger)
    messages_ignored: Mapped[int] = mapped_column(BigInteger)
    messages_rejected: Mapped[int] = mapped_column(BigInteger)
    last_rejection: Mapped[str | None] = mapped_column(Text)

    def health(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        if not self.enabled:
            state = "disabled"
        elif self.last_polled_at is None:
            state = "pending"
        elif self.failures:
            state = "failing"
        else:
            state = "ok"
        return {
            "state": state,
            "last_polled_at": iso(self.last_polled_at),
            "last_success_at": iso(self.last_success_at),
            "last_error_at": iso(self.last_error_at),
            "last_error": self.last_error,
            "last_status": self.last_status,
            "failures": self.failures,
            "next_poll_at": iso(self.next_poll_at),
            "messages_ingested": self.messages_ingested,
            "messages_ignored": self.messages_ignored,
            "messages_rejected": self.messages_rejected,
            "last_rejection": self.last_rejection,
        }
