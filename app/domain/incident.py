"""Incidents: unplanned events on the watch's picture."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.base import OperationalObject
from app.domain.enums import Entity, IncidentCategory, IncidentStatus, Severity
from app.domain.schema import CommonProps, Short, Time, partial
from app.domain.spec import EntitySpec


class Incident(OperationalObject, Base):
    __tablename__ = "incidents"

    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    place: Mapped[str | None] = mapped_column(String(300))
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IncidentCreate(CommonProps):
    category: IncidentCategory
    severity: Severity
    status: IncidentStatus = IncidentStatus.reported
    place: Short | None = None
    occurred_at: Time | None = None
    reported_at: Time | None = None
    closed_at: Time | None = None


S = IncidentStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.reported: frozenset({S.confirmed, S.ongoing, S.resolved, S.false_alarm}),
    S.confirmed: frozenset({S.ongoing, S.resolved, S.false_alarm}),
    S.ongoing: frozenset({S.resolved}),
    S.resolved: frozenset({S.ongoing, S.closed}),
    S.false_alarm: frozenset({S.confirmed, S.closed}),
    S.closed: frozenset(),
}


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    if values.get("reported_at") is None:
        values["reported_at"] = now
    if "status" in changed:
        if values["status"] in (S.closed, S.false_alarm) and values.get("closed_at") is None:
            values["closed_at"] = now
        elif values["status"] not in (S.closed, S.false_alarm) and "closed_at" not in changed:
            values["closed_at"] = None


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    occurred, closed = values.get("occurred_at"), values.get("closed_at")
    if occurred and closed and closed < occurred:
        return [("closed_at", "must not be before occurred_at")]
    return []


SPEC = EntitySpec(
    entity=Entity.incident,
    model=Incident,
    path="incidents",
    ref_prefix="INC",
    create_schema=IncidentCreate,
    update_schema=partial(IncidentCreate),
    fields=("category", "severity", "status", "place", "occurred_at", "reported_at", "closed_at"),
    geometry_types=None,
    status_enum=IncidentStatus,
    kind_field="category",
    kind_enum=IncidentCategory,
    transitions={"status": TRANSITIONS},
    initial={"status": frozenset({S.reported, S.confirmed, S.ongoing})},
    closing=frozenset({S.closed, S.false_alarm}),
    window=("reported_at", "closed_at"),
    text_fields=("place",),
    # The title, category, place and geometry are the facts (what, where); who called, who
    # was hurt and how to reach them go in the description (docs/privacy.md).
    personal_fields=("description",),
    check=_check,
    derive=_derive,
)
