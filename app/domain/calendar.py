"""The exercise calendar: the year's (or a month's) exercises — field training exercises,
table-tops, alarm tests — beside the other planned events, each exercise with the planned
events its window overlaps (clashes), its participating partners, objectives and documents.

Exercises are planned events of the kinds in `EXERCISE_KINDS`: the calendar reads the real
picture (exercise-flagged objects, played inside a scenario, are not plans). Cancelled events
are left out; a clash is any overlap of the two windows, wherever each takes place (the
planning desk wants to know that the police zone's people are busy elsewhere that day).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.domain.document import Document
from app.domain.enums import EXERCISE_KINDS, Entity, EventStatus
from app.domain.planned_event import PlannedEvent
from app.domain.visibility import Scope

BRUSSELS = ZoneInfo("Europe/Brussels")
KINDS = [k.value for k in EXERCISE_KINDS]


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @classmethod
    def of(cls, year: int, month: int | None = None) -> Period:
        """A Brussels calendar year, or one month of it."""
        if month is None:
            return cls(
                datetime(year, 1, 1, tzinfo=BRUSSELS), datetime(year + 1, 1, 1, tzinfo=BRUSSELS)
            )
        after = (year + 1, 1) if month == 12 else (year, month + 1)
        return cls(datetime(year, month, 1, tzinfo=BRUSSELS), datetime(*after, 1, tzinfo=BRUSSELS))


def _window(e: Any) -> ColumnElement[Any]:
    return func.tstzrange(e.starts_at, e.ends_at)  # ix_planned_events_window


def _event(e: PlannedEvent) -> dict[str, Any]:
    return {
        "id": str(e.id),
        "ref": e.ref,
        "title": e.title,
        "kind": e.kind,
        "status": e.status,
        "starts_at": e.starts_at.isoformat(),
        "ends_at": e.ends_at.isoformat(),
        "venue": e.venue,
        "police_zones": list(e.police_zone_codes or []),
    }


async def calendar(session: AsyncSession, period: Period, scope: Scope) -> dict[str, Any]:
    """The period's exercises (with their clashes, participants, objectives and documents) and
    its other planned events, each list by start; only what the scope lets the caller see."""
    period_range = func.tstzrange(period.start, period.end)
    seen = scope.clause(PlannedEvent)
    live = [
        PlannedEvent.status != EventStatus.cancelled,
        PlannedEvent.exercise.is_(False),
        _window(PlannedEvent).op("&&")(period_range),
    ]
    if seen is not None:
        live.append(seen)
    rows = (
        await session.scalars(
            select(PlannedEvent).where(*live).order_by(PlannedEvent.starts_at, PlannedEvent.id)
        )
    ).all()
    exercises = [e for e in rows if e.kind in KINDS]
    others = [e for e in rows if e.kind not in KINDS]

    # The clashes: any other planned event the caller sees, in the period or not, whose window
    # overlaps an exercise's.
    ex, other = PlannedEvent, aliased(PlannedEvent)
    clash_where = [
        ex.id.in_([e.id for e in exercises]),
        other.id != ex.id,
        other.kind.not_in(KINDS),
        other.status != EventStatus.cancelled,
        other.exercise.is_(False),
    ]
    other_seen = scope.clause(other)
    if other_seen is not None:
        clash_where.append(other_seen)
    clashes: dict[uuid.UUID, list[dict[str, Any]]] = {}
    if exercises:
        pairs = await session.execute(
            select(ex.id, other)
            .join(other, _window(other).op("&&")(_window(ex)))
            .where(and_(*clash_where))
            .order_by(other.starts_at, other.id)
        )
        for exercise_id, event in pairs.all():
            clashes.setdefault(exercise_id, []).append(_event(event))

    documents = await _documents(session, [e.id for e in exercises], scope)
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "exercises": [
            _event(e)
            | {
                "objectives": e.objectives,
                "participants": list(e.participants or []),
                "documents": documents.get(e.id, 0),
                "clashes": clashes.get(e.id, []),
            }
            for e in exercises
        ],
        "events": [_event(e) for e in others],
    }


async def _documents(
    session: AsyncSession, ids: list[uuid.UUID], scope: Scope
) -> dict[uuid.UUID, int]:
    """How many documents the caller may read are attached to each exercise."""
    if not ids or (scope.entities is not None and Entity.document not in scope.entities):
        return {}
    where = [Document.subject_entity == Entity.planned_event, Document.subject_id.in_(ids)]
    seen = scope.clause(Document)
    if seen is not None:
        where.append(seen)
    rows = await session.execute(
        select(Document.subject_id, func.count()).where(*where).group_by(Document.subject_id)
    )
    return {subject: count for subject, count in rows.all()}
