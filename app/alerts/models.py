"""Tables of alerting: alerts with their recipients, deliveries and acknowledgements, the rules'
last matches, and alarm-test campaigns. (What partners ask for, their SPOCs, channels and
subscriptions, is app.partners.models.)"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.base import uuid7

ORG_FK = "organisations.code"


class Alert(Base):
    """A message to partners with CAP 1.2's fields; texts per language in `texts`."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_sent_at", "sent_at"),
        Index("ix_alerts_entity", "entity_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    msg_type: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16))
    certainty: Mapped[str] = mapped_column(String(16))
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    event: Mapped[str] = mapped_column(String(200))
    # {"fr": {"headline", "description", "instruction"}, "nl": {...}, "en": {...}}
    texts: Mapped[dict[str, dict[str, str]]] = mapped_column(JSONB)
    area_desc: Mapped[str] = mapped_column(String(500))
    area: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # GeoJSON geometry, WGS 84
    area_codes: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list)
    references_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL")
    )
    origin: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    entity_ref: Mapped[str | None] = mapped_column(String(32))
    change_seq: Mapped[int | None] = mapped_column(BigInteger)
    # A rule alert: the object's state it was composed from (never on the wire). A Cancel to a
    # partner that can no longer see the object is composed from the state of the last alert
    # that partner had, so it says nothing the partner did not already know.
    feature: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class Recipient(Base):
    """One partner organisation an alert is addressed to: its acknowledgement and escalation,
    and, for a rule alert, the subscription of that partner that raised it. Whatever concerns
    one partner lives here, never on the alert, which all its recipients read."""

    __tablename__ = "alert_recipients"
    __table_args__ = (
        # The escalation worker's question: which unacknowledged alerts are overdue?
        Index(
            "ix_alert_recipients_due",
            "deadline_at",
            postgresql_where="acknowledged_at IS NULL AND flagged_at IS NULL",
        ),
        Index("ix_alert_recipients_org", "organisation"),
    )

    alert_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    organisation: Mapped[str] = mapped_column(ForeignKey(ORG_FK), primary_key=True)
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL")
    )
    deadline_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    level: Mapped[int] = mapped_column(Integer, default=0)  # escalation steps taken
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    ack_via: Mapped[str | None] = mapped_column(String(16))


class Delivery(Base):
    """One message to send on one channel. Its id is the idempotency key a receiver sees."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        Index(
            "ix_alert_deliveries_due",
            "next_attempt_at",
            postgresql_where="status IN ('pending', 'sending')",
        ),
        Index("ix_alert_deliveries_alert", "alert_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    organisation: Mapped[str] = mapped_column(ForeignKey(ORG_FK))
    channel: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("partner_channels.id", ondelete="SET NULL")
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("partner_contacts.id", ondelete="SET NULL")
    )
    # A Web Push delivery's device (migration 0026); NULL once the device is unsubscribed.
    push_subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="SET NULL")
    )
    address: Mapped[str] = mapped_column(String(2000))
    language: Mapped[str] = mapped_column(String(2))
    level: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RuleMatch(Base):
    """The last alert a rule raised for an object, and the object's material state then:
    the same state does not raise another."""

    __tablename__ = "alert_rule_matches"

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))


class Campaign(Base):
    """An alarm test: a Test alert to a set of partners, reported by time to acknowledge."""

    __tablename__ = "alarm_campaigns"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(200))
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class PushSubscription(Base):
    """A user's device that takes Web Push (RFC 8030): the push service's endpoint and the
    keys the browser made for it (RFC 8291: `p256dh`, the device's public key, and `auth`, the
    shared secret), in the language the user reads on it. It receives the alerts addressed to
    its user's organisation, and no other (migration 0026)."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (Index("ix_push_subscriptions_user", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # One subscription per endpoint: a browser that subscribes again replaces its row.
    endpoint: Mapped[str] = mapped_column(String(2000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(2))
    label: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
