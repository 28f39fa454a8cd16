"""Tables of the reports that are not operational objects: the shift handovers and the
escalations of the ones nobody acknowledged."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.base import uuid7


class Handover(Base):
    """The handover of one shift, from the outgoing team to the incoming one: a draft (notes
    may change), then handed over (what it lists is frozen, with the notes), then acknowledged
    once. A trigger of migration 0019 refuses any other change, so that what was handed over
    stays as it was read. Both steps are written into the logbook too (app.reports.handover)."""

    __tablename__ = "handovers"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    # The shift change it is for (unique: one handover per shift) and where the shift began.
    shift_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), unique=True)
    shift_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The watch's teams are labels the teams choose ("team 3", "C"): there is no roster here.
    team: Mapped[str | None] = mapped_column(String(32))
    incoming_team: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    # What the shift left (app.reports.handover.build), frozen when handed over; None before.
    content: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(128))
    handed_over_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handed_over_by: Mapped[str | None] = mapped_column(String(128))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)
    # The logbook entries that keep it in the main-courante.
    handed_over_entry_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    acknowledged_entry_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class HandoverEscalation(Base):
    """A shift change whose handover was not acknowledged in time, escalated once (whether or
    not a handover was even drafted), with the alert that told SITCEN's duty officer (None: set
    aside after failing, with a dead letter)."""

    __tablename__ = "handover_escalations"

    shift_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    escalated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    alert_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("alerts.id", ondelete="SET NULL")
    )
    duty_officers: Mapped[list[str]] = mapped_column(JSONB, default=list)
