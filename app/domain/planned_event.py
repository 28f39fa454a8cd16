"""Planned events (mass events, visits, summits, matches, exercises): a window at a venue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import DateTime, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain import organisations
from app.domain.base import OperationalObject
from app.domain.enums import Entity, EventKind, EventStatus, RiskLevel
from app.domain.schema import CommonProps, OrgCode, Short, Time, partial
from app.domain.spec import EntitySpec, Problems


class PlannedEvent(OperationalObject, Base):
    __tablename__ = "planned_events"

    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    venue: Mapped[str | None] = mapped_column(String(300))
    expected_attendance: Mapped[int | None] = mapped_column(Integer)
    risk_level: Mapped[str] = mapped_column(String(16))
    organiser: Mapped[str | None] = mapped_column(String(300))
    # An exercise's (FTX, table-top, alarm test) objectives and the partner organisations
    # taking part (codes); any event may name its partners too.
    objectives: Mapped[str | None] = mapped_column(Text)
    participants: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)


# What deconfliction (app.domain.conflict) and the calendar ask: events whose window meets a
# window (`&&`), found by a GiST index on the window as a range.
Index(
    "ix_planned_events_window",
    func.tstzrange(PlannedEvent.starts_at, PlannedEvent.ends_at),
    postgresql_using="gist",
)


class PlannedEventCreate(CommonProps):
    kind: EventKind
    status: EventStatus = EventStatus.planned
    starts_at: Time
    ends_at: Time
    venue: Short | None = None
    expected_attendance: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    risk_level: RiskLevel = RiskLevel.medium
    organiser: Short | None = None
    objectives: Annotated[str, Field(max_length=10_000)] | None = None
    participants: Annotated[list[OrgCode], Field(max_length=100)] = []


async def _verify(
    session: AsyncSession, values: dict[str, Any], changed: dict[str, Any]
) -> Problems:
    if "participants" in changed:
        values["participants"] = await organisations.require_known(
            session, values.get("participants") or [], ["body", "properties", "participants"]
        )
    return []


E = EventStatus
EVENT_TRANSITIONS: dict[str, frozenset[str]] = {
    E.planned: frozenset({E.confirmed, E.ongoing, E.cancelled}),
    E.confirmed: frozenset({E.planned, E.ongoing, E.cancelled}),
    E.ongoing: frozenset({E.ended}),
    E.ended: frozenset({E.ongoing}),
    E.cancelled: frozenset({E.planned}),
}


def check_window(values: dict[str, Any]) -> list[tuple[str, str]]:
    if values["ends_at"] <= values["starts_at"]:
        return [("ends_at", "must be after starts_at")]
    return []


SPEC = EntitySpec(
    entity=Entity.planned_event,
    model=PlannedEvent,
    path="events",
    ref_prefix="EVT",
    create_schema=PlannedEventCreate,
    update_schema=partial(PlannedEventCreate),
    fields=(
        "kind",
        "status",
        "starts_at",
        "ends_at",
        "venue",
        "expected_attendance",
        "risk_level",
        "organiser",
        "objectives",
        "participants",
    ),
    geometry_types=None,
    status_enum=EventStatus,
    kind_field="kind",
    kind_enum=EventKind,
    transitions={"status": EVENT_TRANSITIONS},
    initial={"status": frozenset({E.planned, E.confirmed, E.ongoing})},
    closing=frozenset({E.ended, E.cancelled}),
    window=("starts_at", "ends_at"),
    text_fields=("venue", "organiser", "objectives"),
    check=check_window,
    verify=_verify,
)
