"""The annual figures: the crisis centre's yearly table, counted from the picture and alerting.

Every object counts in the calendar year, in Europe/Brussels, in which it starts (an
activation's opening, an event's or demonstration's start, an incident's occurrence, an alert's
sending): an event starting at 23:30 on 31 December in Brussels is of that year, though it is
22:30 UTC. Objects flagged `exercise` (played during an exercise) are left out of every
operational count and counted apart (`exercise_objects`). A planned event of kind `exercise` is
the real record of a field training exercise (FTX) the centre ran: it counts in
`field_exercises` unless it is itself flagged `exercise`. Cancelled events and demonstrations did
not take place and are counted apart (`cancelled`).

Everything is aggregated by PostgreSQL (counts, groupings, medians); no row is loaded to count it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    String,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.enums import CapStatus
from app.alerts.models import Alert, Campaign, Recipient
from app.domain.activation import Activation
from app.domain.demonstration import Demonstration
from app.domain.enums import (
    ActivationLevel,
    Coordinator,
    EventKind,
    EventStatus,
    IncidentCategory,
    Severity,
)
from app.domain.incident import Incident
from app.domain.planned_event import PlannedEvent
from app.errors import validation_problem
from app.geo.reference import ReferenceArea

BRUSSELS = ZoneInfo("Europe/Brussels")
FIRST_YEAR = 2000
# Planned events counted under their own heading, not among `planned_events`.
SET_APART = {
    EventKind.summit: "summits",
    EventKind.delegation_visit: "delegation_visits",
    EventKind.exercise: "field_exercises",
}
# The monthly and per-municipality series, in the table's order.
SERIES = (
    "activations",
    "planned_events",
    "summits",
    "delegation_visits",
    "field_exercises",
    "demonstrations",
    "incidents",
)


@dataclass(frozen=True)
class YearWindow:
    year: int
    start: datetime  # 1 January 00:00 in Brussels
    end: datetime  # the next 1 January 00:00 in Brussels

    def holds(self, column: Any) -> ColumnElement[bool]:
        # A range on the column itself, not on its Brussels wall-clock time: a plain index on
        # the column could serve it, and no time is converted to be compared.
        return and_(column >= self.start, column < self.end)

    def month(self, column: Any) -> ColumnElement[int]:
        """The month (1-12) in Brussels of a time within the year: which of the twelve month
        starts it follows (a search among twelve instants, cheaper than converting each time
        to Brussels' wall clock)."""
        starts = [datetime(self.year, m, 1, tzinfo=BRUSSELS) for m in range(1, 13)]
        return func.width_bucket(column, array(starts, type_=DateTime(timezone=True)))


def last_year(now: datetime) -> int:
    """The last year one may ask for: next year, whose planned events are already known."""
    return now.astimezone(BRUSSELS).year + 1


def window(year: int, now: datetime) -> YearWindow:
    """The year's bounds in Brussels; a year before 2000 or after next year is refused."""
    last = last_year(now)
    if not FIRST_YEAR <= year <= last:
        raise validation_problem(
            [
                {
                    "loc": ["query", "year"],
                    "msg": f"must be a year from {FIRST_YEAR} to {last}",
                    "type": "value_error",
                    "input": year,
                }
            ]
        )
    return YearWindow(
        year,
        datetime(year, 1, 1, tzinfo=BRUSSELS),
        datetime(year + 1, 1, 1, tzinfo=BRUSSELS),
    )


def _series_of_event(kind: Any) -> ColumnElement[str]:
    """A planned event's series: its own heading for the kinds set apart, else planned_events."""
    return case(
        *((kind == k.value, literal(name)) for k, name in SET_APART.items()),
        else_=literal("planned_events"),
    )


def _started(year: YearWindow) -> Select[Any]:
    """One row per operational object started in the year: (series, month, municipalities,
    flagged as exercise, cancelled). An activation without a place of its own takes its
    subject's municipalities."""
    subject_codes = func.coalesce(
        select(PlannedEvent.municipality_codes)
        .where(PlannedEvent.id == Activation.subject_id)
        .scalar_subquery(),
        select(Demonstration.municipality_codes)
        .where(Demonstration.id == Activation.subject_id)
        .scalar_subquery(),
        select(Incident.municipality_codes)
        .where(Incident.id == Activation.subject_id)
        .scalar_subquery(),
    )
    activations = select(
        literal("activations").label("series"),
        year.month(Activation.opened_at).label("month"),
        case(
            (func.cardinality(Activation.municipality_codes) > 0, Activation.municipality_codes),
            else_=subject_codes,
        ).label("codes"),
        Activation.exercise.label("exercise"),
        literal(False).label("cancelled"),
    ).where(year.holds(Activation.opened_at))
    events = select(
        _series_of_event(PlannedEvent.kind),
        year.month(PlannedEvent.starts_at),
        PlannedEvent.municipality_codes,
        PlannedEvent.exercise,
        PlannedEvent.status == EventStatus.cancelled.value,
    ).where(year.holds(PlannedEvent.starts_at))
    demonstrations = select(
        literal("demonstrations"),
        year.month(Demonstration.starts_at),
        Demonstration.municipality_codes,
        Demonstration.exercise,
        Demonstration.status == EventStatus.cancelled.value,
    ).where(year.holds(Demonstration.starts_at))
    incident_start = func.coalesce(Incident.occurred_at, Incident.reported_at)
    incidents = select(
        literal("incidents"),
        year.month(incident_start),
        Incident.municipality_codes,
        Incident.exercise,
        literal(False),
    ).where(year.holds(incident_start))
    return union_all(activations, events, demonstrations, incidents)  # type: ignore[return-value]


async def _by_series(session: AsyncSession, year: YearWindow) -> dict[str, Any]:
    """Each series per month and per municipality, and what was set apart: one statement, in
    which the year's objects are read once (a CTE both halves share)."""
    started = _started(year).cte("started")
    counted = and_(started.c.exercise.is_(False), started.c.cancelled.is_(False))
    months = select(
        literal("month").label("axis"),
        started.c.series,
        cast(started.c.month, String).label("key"),
        func.count().filter(counted).label("n"),
        func.count().filter(started.c.exercise.is_(True)).label("flagged"),
        func.count().filter(and_(started.c.cancelled, started.c.exercise.is_(False))),
    ).group_by(started.c.series, started.c.month)
    per_place = (
        select(started.c.series, func.unnest(started.c.codes).label("code"))
        .where(counted)
        .subquery("per_place")
    )
    places = select(
        literal("place"), per_place.c.series, per_place.c.code, func.count(), literal(0), literal(0)
    ).group_by(per_place.c.series, per_place.c.code)
    rows = (await session.execute(union_all(months, places))).all()
    names = {
        code: (name_fr, name_nl)
        for code, name_fr, name_nl in await session.execute(
            select(ReferenceArea.code, ReferenceArea.name_fr, ReferenceArea.name_nl).where(
                ReferenceArea.layer == "municipality"
            )
        )
    }

    by_month = {s: [0] * 12 for s in SERIES}
    exercise = dict.fromkeys(("activations", "planned_events", "demonstrations", "incidents"), 0)
    cancelled = {"planned_events": 0, "demonstrations": 0}
    municipalities: dict[str, dict[str, Any]] = {}
    for axis, series, key, n, flagged, dropped in rows:
        if axis == "place":
            name_fr, name_nl = names.get(key, (key, key))
            place = municipalities.setdefault(
                key,
                {"code": key, "name_fr": name_fr, "name_nl": name_nl} | dict.fromkeys(SERIES, 0),
            )
            place[series] = n
            continue
        by_month[series][int(key) - 1] += n
        family = "planned_events" if series in SET_APART.values() else series
        exercise[family] += flagged
        if family in cancelled:
            cancelled[family] += dropped
    return {
        "by_month": by_month,
        "by_municipality": [municipalities[code] for code in sorted(municipalities)],
        "exercise_objects": exercise,
        "cancelled": cancelled,
    }


async def _activations(session: AsyncSession, year: YearWindow) -> dict[str, Any]:
    rows = (
        await session.execute(
            select(Activation.level, Activation.coordinator, func.count())
            .where(year.holds(Activation.opened_at), Activation.exercise.is_(False))
            .group_by(Activation.level, Activation.coordinator)
        )
    ).all()
    by_level = dict.fromkeys((lv.value for lv in ActivationLevel), 0)
    by_coordinator = dict.fromkeys((c.value for c in Coordinator), 0)
    for level, coordinator, n in rows:
        by_level[level] = by_level.get(level, 0) + n
        by_coordinator[coordinator] = by_coordinator.get(coordinator, 0) + n
    return {
        "activations_coordinated_by_sitcen": by_coordinator[Coordinator.sitcen],
        "activations_by_level": by_level,
        "activations_by_coordinator": by_coordinator,
    }


async def _events_by_kind(session: AsyncSession, year: YearWindow) -> dict[str, int]:
    rows = (
        await session.execute(
            select(PlannedEvent.kind, func.count())
            .where(
                year.holds(PlannedEvent.starts_at),
                PlannedEvent.exercise.is_(False),
                PlannedEvent.status != EventStatus.cancelled.value,
                PlannedEvent.kind.not_in([k.value for k in SET_APART]),
            )
            .group_by(PlannedEvent.kind)
        )
    ).all()
    by_kind = {k.value: 0 for k in EventKind if k not in SET_APART}
    by_kind.update({kind: n for kind, n in rows})
    return by_kind


async def _incidents(session: AsyncSession, year: YearWindow) -> dict[str, Any]:
    start = func.coalesce(Incident.occurred_at, Incident.reported_at)
    rows = (
        await session.execute(
            select(Incident.category, Incident.severity, func.count())
            .where(year.holds(start), Incident.exercise.is_(False))
            .group_by(Incident.category, Incident.severity)
        )
    ).all()
    by_category = {c.value: 0 for c in IncidentCategory}
    by_severity = {s.value: 0 for s in Severity}
    for category, severity, n in rows:
        by_category[category] = by_category.get(category, 0) + n
        by_severity[severity] = by_severity.get(severity, 0) + n
    return {"incidents_by_category": by_category, "incidents_by_severity": by_severity}


def _seconds_to_ack() -> ColumnElement[Any]:
    return extract("epoch", Recipient.acknowledged_at - Alert.sent_at)


def _median(values: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.percentile_cont(0.5).within_group(values)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


async def _alerts(session: AsyncSession, year: YearWindow) -> dict[str, Any]:
    """Alerts to partners (CAP status Actual: not the alarm tests, not exercises): how many,
    to how many partners, how many partners acknowledged, and the median time they took."""
    actual = and_(year.holds(Alert.sent_at), Alert.status == CapStatus.Actual.value)
    sent = await session.scalar(select(func.count()).select_from(Alert).where(actual)) or 0
    acked = Recipient.acknowledged_at.is_not(None)
    recipients, acknowledged, median = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(acked),
                _median(_seconds_to_ack()).filter(acked),
            )
            .select_from(Recipient)
            .join(Alert, Alert.id == Recipient.alert_id)
            .where(actual)
        )
    ).one()
    return {
        "alerts_sent": sent,
        "alert_recipients": recipients,
        "alerts_acknowledged": acknowledged,
        "alerts_median_seconds_to_ack": _rounded(median),
    }


async def _alarm_tests(session: AsyncSession, year: YearWindow) -> dict[str, Any]:
    acked = Recipient.acknowledged_at.is_not(None)
    rows = (
        await session.execute(
            select(
                Campaign.name,
                Alert.sent_at,
                func.count(Recipient.organisation),
                func.count(Recipient.organisation).filter(acked),
                _median(_seconds_to_ack()).filter(acked),
            )
            .join(Alert, Alert.id == Campaign.alert_id)
            .outerjoin(Recipient, Recipient.alert_id == Alert.id)
            .where(year.holds(Alert.sent_at))
            .group_by(Campaign.id, Campaign.name, Alert.sent_at)
            .order_by(Alert.sent_at, Campaign.name)
        )
    ).all()
    campaigns = [
        {
            "name": name,
            "sent_at": sent_at.astimezone(BRUSSELS).isoformat(),
            "partners": partners,
            "answered": answered,
            "answer_rate": round(answered / partners, 3) if partners else None,
            "median_seconds_to_ack": _rounded(median),
        }
        for name, sent_at, partners, answered, median in rows
    ]
    partners = sum(c["partners"] for c in campaigns)
    answered = sum(c["answered"] for c in campaigns)
    return {
        "alarm_tests": len(campaigns),
        "alarm_test_recipients": partners,
        "alarm_test_answered": answered,
        "alarm_test_answer_rate": round(answered / partners, 3) if partners else None,
        "alarm_test_campaigns": campaigns,
    }


async def annual_figures(session: AsyncSession, year: int, *, now: datetime) -> dict[str, Any]:
    """The year's table, as the API and the CLI give it (JSON)."""
    bounds = window(year, now)
    series = await _by_series(session, bounds)
    totals = {name: sum(months) for name, months in series["by_month"].items()}
    incidents = await _incidents(session, bounds)
    return {
        "year": year,
        "timezone": "Europe/Brussels",
        "activations": totals["activations"],
        **await _activations(session, bounds),
        "planned_events": totals["planned_events"],
        "planned_events_by_kind": await _events_by_kind(session, bounds),
        "demonstrations": totals["demonstrations"],
        "summits": totals["summits"],
        "delegation_visits": totals["delegation_visits"],
        "field_exercises": totals["field_exercises"],
        "incidents": totals["incidents"],
        **incidents,
        **await _alerts(session, bounds),
        **await _alarm_tests(session, bounds),
        "exercise_objects": series["exercise_objects"],
        "cancelled": series["cancelled"],
        "by_month": series["by_month"],
        "by_municipality": series["by_municipality"],
    }
