"""Tables of the crisis cell's machinery that are not operational objects: the admin-kept
activation templates, the escalations of overdue tasks. (The phases, which an activation's own
check reads, are in app.domain.)"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Boolean, DateTime, ForeignKey, String, func, true
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class ActivationTemplate(Base):
    """What an activation of one kind (planned event, flood, major fire…) starts with."""

    __tablename__ = "activation_templates"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label_fr: Mapped[str] = mapped_column(String(200))
    label_nl: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    # The seats to create: [{role, title, holder_organisation?, holder_user?}].
    positions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # Codes of the standard procedures (checklist templates) to start with the activation.
    procedures: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    # Entries of the operational fiche to pre-fill.
    fiche: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))  # the plan it follows
    # An inactive template is kept for the activations opened from it, and offered no more.
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[str] = mapped_column(String(128))


class TaskEscalation(Base):
    """An overdue task escalated, once per due time: moved later and missed again, it is
    escalated again. The alert it raised, for the watch to follow (None: set aside after
    failing, with a dead letter)."""

    __tablename__ = "task_escalations"

    task_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    alert_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("alerts.id", ondelete="SET NULL")
    )
    escalated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
