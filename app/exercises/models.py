"""The exercises' tables: scenarios as uploaded, their runs, and each inject a run has played.
None of them is an operational object: what a run plays *into* the picture goes through the one
write path (app.domain.objects), flagged `exercise`, and is in the feed like everything else."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.base import uuid7


class ExerciseScenario(Base):
    """A scenario as validated at upload (app.exercises.scenario), kept whole in `document`:
    a run plays what was checked, never a file read again later."""

    __tablename__ = "exercise_scenarios"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[dict[str, str]] = mapped_column(JSONB)  # {"fr", "nl", "en"?}
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    injects: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[int] = mapped_column(Integer)  # the last inject's time
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class ExerciseRun(Base):
    """One play of a scenario. Its exercise time is `elapsed_seconds` at `anchor_at`, plus,
    while running, the real time since then times `speed`: a pause, a resume or a new speed
    folds the time so far into `elapsed_seconds` and moves the anchor (ExerciseClock)."""

    __tablename__ = "exercise_runs"
    __table_args__ = (
        # One live run of a scenario at a time: two would write the same picture twice.
        Index(
            "ux_exercise_runs_live",
            "scenario_id",
            unique=True,
            postgresql_where=text("status IN ('running', 'paused')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    scenario_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("exercise_scenarios.id", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(String(16))
    speed: Mapped[float] = mapped_column(Float)
    elapsed_seconds: Mapped[float] = mapped_column(Float)
    anchor_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_by: Mapped[str] = mapped_column(String(128))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Every controller action: [{"at", "by", "action", "speed", "elapsed"}], for the report.
    log: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ExercisePlay(Base):
    """One inject of a run, played (or set aside after failing): the primary key is what makes
    each inject play once, whatever instances or restarts; written in the inject's own
    transaction, with what it wrote."""

    __tablename__ = "exercise_plays"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("exercise_runs.id", ondelete="CASCADE"), primary_key=True
    )
    inject: Mapped[int] = mapped_column(Integer, primary_key=True)  # its index in the scenario
    kind: Mapped[str] = mapped_column(String(16))  # create, update, message, call
    at_seconds: Mapped[int] = mapped_column(Integer)  # its time in the scenario
    played_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    elapsed_seconds: Mapped[float] = mapped_column(Float)  # exercise time when played
    # The scenario-local key of the object it created or changed (or is about).
    object_key: Mapped[str | None] = mapped_column(String(64))
    entity: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    version: Mapped[int | None] = mapped_column(Integer)  # the object's version it wrote
    alert_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # None: played; otherwise why it could not be (set aside, the run went on).
    error: Mapped[str | None] = mapped_column(Text)
