"""Partner organisations (police zones, fire and medical service, STIB/MIVB, municipalities…)
and what each asks of SITCEN: its SPOCs (contacts), its channels, its subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, Time
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.base import uuid7

ORG_FK = "organisations.code"


class OrganisationKind(StrEnum):
    police_zone = "police_zone"
    fire_medical = "fire_medical"
    public_transport = "public_transport"
    municipality = "municipality"
    regional_agency = "regional_agency"
    federal = "federal"
    other = "other"


class Organisation(Base):
    __tablename__ = "organisations"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_fr: Mapped[str] = mapped_column(String(200))
    name_nl: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class ChannelKind(StrEnum):
    webhook = "webhook"
    email = "email"
    # A user's own device (Web Push, app.alerts.channels.push): subscribed by the user on the
    # device (/api/push/subscriptions), never configured as a partner's channel.
    push = "push"


class AreaKind(StrEnum):
    region = "region"  # the whole Region: no spatial condition
    zone = "zone"  # one zone of the picture, as it stands when the change is evaluated
    zone_kinds = "zone_kinds"  # inside any active zone of these kinds (perimeters, hotspots)
    municipalities = "municipalities"  # NIS codes
    police_zones = "police_zones"  # police zone numbers
    polygon = "polygon"  # drawn by the partner


class Audited:
    """Who made a row and who changed it last: every write is attributable."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(128))


class Contact(Audited, Base):
    """A partner's SPOC. Escalation goes through an organisation's on-duty SPOCs by rank."""

    __tablename__ = "partner_contacts"
    __table_args__ = (Index("ix_partner_contacts_org_rank", "organisation", "rank"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    organisation: Mapped[str] = mapped_column(ForeignKey(ORG_FK, ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(2))
    email: Mapped[str | None] = mapped_column(String(254))
    rank: Mapped[int] = mapped_column(Integer, default=0)
    # Local (Europe/Brussels) time of day; both None: always on duty. from > to wraps midnight.
    on_duty_from: Mapped[time | None] = mapped_column(Time)
    on_duty_to: Mapped[time | None] = mapped_column(Time)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Channel(Audited, Base):
    """A way to reach a partner besides the live push: a signed webhook or e-mail to its SPOCs."""

    __tablename__ = "partner_channels"
    __table_args__ = (Index("ix_partner_channels_org", "organisation"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    organisation: Mapped[str] = mapped_column(ForeignKey(ORG_FK, ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(String(2000))
    # Kept in clear because signing needs it; shown to the partner once, at creation/rotation.
    secret: Mapped[str | None] = mapped_column(String(128))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


class Subscription(Audited, Base):
    """What a partner wants to hear about: an area, object types, categories, a minimum
    severity. The rules themselves are in app.alerts.workers.rules."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_org", "organisation"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    organisation: Mapped[str] = mapped_column(ForeignKey(ORG_FK, ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    entities: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    categories: Mapped[list[str] | None] = mapped_column(ARRAY(String(32)))
    min_severity: Mapped[str | None] = mapped_column(String(16))
    parent_entities: Mapped[list[str] | None] = mapped_column(ARRAY(String(32)))
    area_kind: Mapped[str] = mapped_column(String(16))
    zone_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    zone_kinds: Mapped[list[str] | None] = mapped_column(ARRAY(String(32)))
    codes: Mapped[list[str] | None] = mapped_column(ARRAY(String(16)))
    polygon: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # GeoJSON, WGS 84
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DirectoryEntry(Audited, Base):
    """One service or function of an organisation as SITCEN calls it: its 24/7 number, its
    e-mail, its ASTRID talk-group. Emergency plans name entries, never copy them
    (app.domain.plan), so that a changed number is the number every plan shows."""

    __tablename__ = "directory_entries"
    __table_args__ = (Index("ix_directory_entries_org", "organisation", "function"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    organisation: Mapped[str] = mapped_column(ForeignKey(ORG_FK, ondelete="CASCADE"))
    function: Mapped[str] = mapped_column(String(200))  # "Officier de garde D1", "Dir-CoMs"
    name: Mapped[str | None] = mapped_column(String(200))
    phone_24_7: Mapped[str | None] = mapped_column(String(32))  # E.164
    phone: Mapped[str | None] = mapped_column(String(32))  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    radio_talkgroup: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DirectoryConfirmation(Base):
    """When an organisation last confirmed its entries of the directory, by whom, and its own
    period between confirmations (None: SITCEN_DIRECTORY_CONFIRM_DAYS)."""

    __tablename__ = "directory_confirmations"

    organisation: Mapped[str] = mapped_column(
        ForeignKey(ORG_FK, ondelete="CASCADE"), primary_key=True
    )
    confirm_days: Mapped[int | None] = mapped_column(Integer)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_by: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(128))


class DirectoryReminder(Base):
    """A reminder sent for one period of an organisation (the period is named by the time its
    confirmation falls due): recorded so that it goes once."""

    __tablename__ = "directory_reminders"

    organisation: Mapped[str] = mapped_column(
        ForeignKey(ORG_FK, ondelete="CASCADE"), primary_key=True
    )
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # ReminderKind
    # None: it could not be sent and was set aside as a dead letter (app.background).
    alert_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConfirmationState(StrEnum):
    """Where an organisation stands in the directory's confirmation schedule."""

    confirmed = "confirmed"  # confirmed, and not yet due
    due_soon = "due_soon"  # falls due within SITCEN_DIRECTORY_REMINDER_DAYS
    overdue = "overdue"
    never_confirmed = "never_confirmed"


class ReminderKind(StrEnum):
    due_soon = "due_soon"  # SITCEN_DIRECTORY_REMINDER_DAYS before the confirmation falls due
    overdue = "overdue"
