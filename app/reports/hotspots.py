"""Hotspot fiches: for each drug hotspot (a zone of kind `hotspot`), the incidents inside it week
by week, the police measures taken on it with their validity, its local task force's tasks and
the evaluation notes; and the comparison of every hotspot over a period and the one before.

Everything is read for one reader (`Scope`): a partner's fiche holds only the hotspots,
incidents, measures, tasks and notes shared with it, and a hotspot it may not see answers as
an unknown one. Incidents are counted by PostGIS (a spatial join on the incidents' GiST index,
grouped by the Monday of their week in Brussels time): no incident reaches Python.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.enums import (
    Entity,
    IncidentStatus,
    MeasureValidity,
    TaskStatus,
    Trend,
    ZoneKind,
)
from app.domain.hotspot_note import HotspotNote
from app.domain.incident import Incident
from app.domain.police_measure import PoliceMeasure, validity
from app.domain.task import PENDING, Task
from app.domain.visibility import Scope
from app.domain.zone import Zone
from app.errors import ProblemError, not_found, validation_problem

BRUSSELS_NAME = "Europe/Brussels"
BRUSSELS = ZoneInfo(BRUSSELS_NAME)
DEFAULT_WEEKS = 12
# Three years of weeks: a multi-year evaluation, and a bound on what one request draws.
MAX_WEEKS = 156
RECENT_INCIDENTS = 10
# The days a period may name: wide enough for any archive, narrow enough that the previous
# period and the week ends stay within the calendar.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)
# When an incident happened: when it occurred if known, else when it was reported.
WHEN = func.coalesce(Incident.occurred_at, Incident.reported_at)
# The Monday (a date) of the Brussels week of an incident: local time first, then the week.
WEEK = cast(func.date_trunc("week", func.timezone(BRUSSELS_NAME, WHEN)), Date)


@dataclass(frozen=True)
class Period:
    """Whole weeks, Monday to Sunday in Brussels: `first` a Monday, `last` a Sunday."""

    first: date
    last: date

    @property
    def weeks(self) -> list[date]:
        return [
            self.first + timedelta(weeks=i) for i in range((self.last - self.first).days // 7 + 1)
        ]

    @property
    def previous(self) -> Period:
        span = self.last - self.first + timedelta(days=1)
        return Period(self.first - span, self.first - timedelta(days=1))

    @property
    def start(self) -> datetime:
        """The period's first instant (Monday 00:00 in Brussels)."""
        return datetime.combine(self.first, time(), BRUSSELS)

    @property
    def end(self) -> datetime:
        """The instant after the period (the next Monday 00:00 in Brussels)."""
        return datetime.combine(self.last + timedelta(days=1), time(), BRUSSELS)


def _query_problem(name: str, msg: str) -> ProblemError:
    return validation_problem([{"loc": ["query", name], "msg": msg}])


def period_of(first: date | None, last: date | None, today: date) -> Period:
    """The whole weeks from the week of `first` to the week of `last` (by default the
    DEFAULT_WEEKS weeks ending with this one); 422 naming the parameter when the range is
    backwards or longer than MAX_WEEKS."""
    for name, day in (("from", first), ("to", last)):
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise _query_problem(name, f"out of range: a day from {EARLIEST_DAY} to {LATEST_DAY}")
    last = last or today
    first = first or last - timedelta(weeks=DEFAULT_WEEKS - 1)
    if last < first:
        raise _query_problem("to", f"{last.isoformat()} is before from ({first.isoformat()})")
    monday = first - timedelta(days=first.weekday())
    sunday = last + timedelta(days=6 - last.weekday())
    period = Period(monday, sunday)
    if len(period.weeks) > MAX_WEEKS:
        raise _query_problem(
            "from", f"{len(period.weeks)} weeks asked: at most {MAX_WEEKS} at a time"
        )
    return period


def trend(current: int, previous: int) -> Trend:
    """Rising or falling when the count moved by more than one incident and more than a tenth
    of the previous period's: two incidents instead of one is no trend."""
    change = current - previous
    if abs(change) <= max(1, previous // 10):
        return Trend.stable
    return Trend.up if change > 0 else Trend.down


def _readable(scope: Scope, entity: Entity) -> bool:
    return scope.entities is None or entity.value in scope.entities


def _scoped(query: Any, scope: Scope, model: Any) -> Any:
    clause = scope.clause(model)
    return query if clause is None else query.where(clause)


def _hotspots(scope: Scope) -> Any:
    return _scoped(select(Zone).where(Zone.kind == ZoneKind.hotspot), scope, Zone)


async def hotspot(session: AsyncSession, zone_id: uuid.UUID, scope: Scope) -> Zone:
    """The hotspot, if the reader sees it; 404 for a zone it may not see and for an unknown one
    alike, and 404 naming the kind for a zone it sees that is not a hotspot."""
    if not _readable(scope, Entity.zone):
        raise not_found("hotspot", zone_id)
    zone: Zone | None = await session.scalar(
        _scoped(select(Zone).where(Zone.id == zone_id), scope, Zone)
    )
    if zone is None:
        raise not_found("hotspot", zone_id)
    if zone.kind != ZoneKind.hotspot:
        raise not_found(
            "hotspot",
            detail=f"zone {zone.ref} is a {zone.kind.replace('_', ' ')}, not a hotspot",
        )
    return zone


async def weekly_counts(
    session: AsyncSession, zone_ids: list[uuid.UUID], period: Period, scope: Scope
) -> dict[uuid.UUID, dict[date, int]]:
    """Incidents inside each hotspot by Brussels week over `period`: those the reader sees, not
    exercises, not false alarms. Weeks without incidents are absent."""
    found: dict[uuid.UUID, dict[date, int]] = {z: {} for z in zone_ids}
    if not zone_ids or not _readable(scope, Entity.incident):
        return found
    query = (
        select(Zone.id, WEEK.label("week"), func.count().label("n"))
        .select_from(Zone)
        .join(Incident, func.ST_Intersects(Incident.geom, Zone.geom))
        .where(
            Zone.id.in_(zone_ids),
            period.start <= WHEN,
            period.end > WHEN,
            Incident.exercise.is_(False),
            Incident.status != IncidentStatus.false_alarm,
        )
        .group_by(Zone.id, WEEK)
    )
    for zone_id, week, n in (await session.execute(_scoped(query, scope, Incident))).all():
        found[zone_id][week] = n
    return found


def _series(counts: dict[date, int], period: Period) -> list[int]:
    return [counts.get(week, 0) for week in period.weeks]


def _summary(counts: dict[date, int], period: Period) -> dict[str, Any]:
    weekly = _series(counts, period)
    current, previous = sum(weekly), sum(_series(counts, period.previous))
    return {
        "current": current,
        "previous": previous,
        "change": current - previous,
        "trend": trend(current, previous).value,
        "weekly": weekly,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _zone(zone: Zone) -> dict[str, Any]:
    return {
        "id": str(zone.id),
        "ref": zone.ref,
        "title": zone.title,
        "status": zone.status,
        "municipalities": zone.areas.get("municipalities", []),
        "police_zones": zone.areas.get("police_zones", []),
    }


def _period(period: Period) -> dict[str, Any]:
    previous = period.previous
    return {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "previous_from": previous.first.isoformat(),
        "previous_to": previous.last.isoformat(),
        "weeks": [w.isoformat() for w in period.weeks],
        "time_zone": BRUSSELS_NAME,
    }


def _measure(m: PoliceMeasure, at: datetime) -> dict[str, Any]:
    return {
        "id": str(m.id),
        "ref": m.ref,
        "title": m.title,
        "kind": m.kind,
        "legal_basis": m.legal_basis,
        "reference": m.reference,
        "authority": m.authority,
        "valid_from": _iso(m.valid_from),
        "valid_to": _iso(m.valid_to),
        "valid_until": _iso(m.valid_until),
        "extensions": m.extensions,
        "status": m.status,
        "validity": validity(m.valid_from, m.valid_until, m.status, at).value,
        "version": m.version,
    }


def _task(t: Task, at: datetime) -> dict[str, Any]:
    return {
        "id": str(t.id),
        "ref": t.ref,
        "title": t.title,
        "status": t.status,
        "priority": t.priority,
        "owner_organisation": t.owner_organisation,
        "owner_user": t.owner_user,
        "due_at": _iso(t.due_at),
        "done_at": _iso(t.done_at),
        "overdue": t.status in PENDING and t.due_at is not None and t.due_at < at,
    }


def _note(n: HotspotNote) -> dict[str, Any]:
    return {
        "id": str(n.id),
        "ref": n.ref,
        "title": n.title,
        "text": n.description,
        "noted_at": _iso(n.noted_at),
        "author": n.author,
        "recorded_by": n.created_by,
        "recorded_at": _iso(n.created_at),
        "corrects_id": str(n.corrects_id) if n.corrects_id else None,
        "corrected_by": [str(c) for c in n.corrected_by],
    }


async def _measures(
    session: AsyncSession, zone_ids: list[uuid.UUID], scope: Scope
) -> list[PoliceMeasure]:
    if not zone_ids or not _readable(scope, Entity.police_measure):
        return []
    query = select(PoliceMeasure).where(PoliceMeasure.zone_ids.overlap(zone_ids))
    query = _scoped(query, scope, PoliceMeasure).order_by(PoliceMeasure.valid_from.desc())
    return list((await session.scalars(query)).all())


async def _tasks(session: AsyncSession, zone_ids: list[uuid.UUID], scope: Scope) -> list[Task]:
    """The local task forces' tasks: linked to a hotspot by their zones or as their subject."""
    if not zone_ids or not _readable(scope, Entity.task):
        return []
    query = select(Task).where(
        or_(
            Task.zone_ids.overlap(zone_ids),
            (Task.subject_entity == Entity.zone) & Task.subject_id.in_(zone_ids),
        )
    )
    query = _scoped(query, scope, Task).order_by(Task.due_at.asc().nulls_last(), Task.id)
    return list((await session.scalars(query)).all())


def _touches(ids: list[uuid.UUID], zone_id: uuid.UUID) -> bool:
    return zone_id in (ids or [])


async def comparison(
    session: AsyncSession, period: Period, scope: Scope, at: datetime
) -> dict[str, Any]:
    """Every hotspot the reader sees: incidents this period and the previous one, the trend,
    the weekly counts (the sparkline), measures in force or expiring, open tasks."""
    zones = list((await session.scalars(_hotspots(scope).order_by(Zone.title, Zone.id))).all())
    ids = [z.id for z in zones]
    counts = await weekly_counts(session, ids, Period(period.previous.first, period.last), scope)
    measures = await _measures(session, ids, scope)
    tasks = await _tasks(session, ids, scope)
    rows = []
    for zone in zones:
        states = [
            validity(m.valid_from, m.valid_until, m.status, at)
            for m in measures
            if _touches(m.zone_ids, zone.id)
        ]
        open_tasks = [
            t
            for t in tasks
            if t.status in PENDING and (_touches(t.zone_ids, zone.id) or t.subject_id == zone.id)
        ]
        rows.append(
            {
                **_zone(zone),
                **_summary(counts[zone.id], period),
                "measures_in_force": sum(
                    s in (MeasureValidity.in_force, MeasureValidity.expiring) for s in states
                ),
                "measures_expiring": sum(s == MeasureValidity.expiring for s in states),
                "open_tasks": len(open_tasks),
            }
        )
    return {"period": _period(period), "at": at.isoformat(), "hotspots": rows}


async def fiche(
    session: AsyncSession, zone_id: uuid.UUID, period: Period, scope: Scope, at: datetime
) -> dict[str, Any]:
    """One hotspot's fiche for this reader: weekly incidents over `period` (and the previous
    period's total), the latest incidents, its measures with their validity at `at`, its task
    force's tasks, its evaluation notes (newest first)."""
    zone = await hotspot(session, zone_id, scope)
    counts = await weekly_counts(
        session, [zone.id], Period(period.previous.first, period.last), scope
    )
    recent: list[dict[str, Any]] = []
    if _readable(scope, Entity.incident):
        query = (
            select(Incident.id, Incident.ref, Incident.title, Incident.category)
            .add_columns(Incident.severity, Incident.status, WHEN.label("at"))
            .join(Zone, func.ST_Intersects(Incident.geom, Zone.geom))
            .where(
                Zone.id == zone.id,
                period.start <= WHEN,
                period.end > WHEN,
                Incident.exercise.is_(False),
                Incident.status != IncidentStatus.false_alarm,
            )
            .order_by(WHEN.desc())
            .limit(RECENT_INCIDENTS)
        )
        for r in (await session.execute(_scoped(query, scope, Incident))).all():
            recent.append(
                {
                    "id": str(r.id),
                    "ref": r.ref,
                    "title": r.title,
                    "category": r.category,
                    "severity": r.severity,
                    "status": r.status,
                    "at": r.at.isoformat(),
                }
            )
    tasks = [_task(t, at) for t in await _tasks(session, [zone.id], scope)]
    notes: list[HotspotNote] = []
    if _readable(scope, Entity.hotspot_note):
        query = select(HotspotNote).where(HotspotNote.zone_ids.contains([zone.id]))
        query = _scoped(query, scope, HotspotNote).order_by(
            HotspotNote.noted_at.desc(), HotspotNote.id.desc()
        )
        notes = list((await session.scalars(query)).all())
    return {
        "hotspot": _zone(zone),
        "period": _period(period),
        "at": at.isoformat(),
        "incidents": {**_summary(counts[zone.id], period), "recent": recent},
        "measures": [_measure(m, at) for m in await _measures(session, [zone.id], scope)],
        "tasks": tasks,
        "tasks_done": sum(t["status"] == TaskStatus.done for t in tasks),
        "notes": [_note(n) for n in notes],
    }
