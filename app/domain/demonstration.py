"""Demonstrations: a static gathering or a route, with its authorisation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field
from sqlalchemy import DateTime, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.base import OperationalObject
from app.domain.enums import Authorisation, Entity, EventStatus
from app.domain.planned_event import EVENT_TRANSITIONS, check_window
from app.domain.schema import CommonProps, Short, Time, partial
from app.domain.spec import EntitySpec


class Demonstration(OperationalObject, Base):
    __tablename__ = "demonstrations"

    organiser: Mapped[str | None] = mapped_column(String(300))
    expected_participants: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    authorisation: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))


# Deconfliction's window test (app.domain.conflict), as for planned events.
Index(
    "ix_demonstrations_window",
    func.tstzrange(Demonstration.starts_at, Demonstration.ends_at),
    postgresql_using="gist",
)


class DemonstrationCreate(CommonProps):
    organiser: Short | None = None
    expected_participants: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    starts_at: Time
    ends_at: Time
    authorisation: Authorisation = Authorisation.requested
    status: EventStatus = EventStatus.planned


A = Authorisation
AUTHORISATION_TRANSITIONS: dict[str, frozenset[str]] = {
    A.requested: frozenset({A.authorised, A.refused, A.tolerated}),
    A.authorised: frozenset({A.refused, A.tolerated}),
    A.refused: frozenset({A.authorised, A.tolerated}),
    A.tolerated: frozenset({A.authorised, A.refused}),
}

SPEC = EntitySpec(
    entity=Entity.demonstration,
    model=Demonstration,
    path="demonstrations",
    ref_prefix="DEM",
    create_schema=DemonstrationCreate,
    update_schema=partial(DemonstrationCreate),
    fields=(
        "organiser",
        "expected_participants",
        "starts_at",
        "ends_at",
        "authorisation",
        "status",
    ),
    geometry_types=frozenset({"Point", "Polygon", "LineString", "MultiLineString"}),
    status_enum=EventStatus,
    transitions={"status": EVENT_TRANSITIONS, "authorisation": AUTHORISATION_TRANSITIONS},
    initial={
        "status": frozenset({EventStatus.planned, EventStatus.confirmed, EventStatus.ongoing})
    },
    closing=frozenset({EventStatus.ended, EventStatus.cancelled}),
    window=("starts_at", "ends_at"),
    text_fields=("organiser",),
    check=check_window,
)
