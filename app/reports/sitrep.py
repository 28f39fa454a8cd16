"""The SITREP's life beyond its object (app.domain.sitrep): generating a draft from the picture
at a chosen time, approving it, and cutting from it what each reader may read. Printing is
app.reports.sitrep_print's (HTML, PDF, map); sending, app.reports.sitrep_send's.

Generating reads the past as time travel does (app.domain.timetravel): the situation at the
chosen time (open incidents, active zones and perimeters, the day's planned events and
demonstrations), the activation's decisions and open tasks, and from the change feed what
changed since the previous SITREP of the same series. That picture is stored once, whole, with
the SITREP (`SitrepPicture`); each reader gets the part of it their scope lets them see
(app.domain.visibility, asked of each object as it stood at the picture's time): a partner never
reads an internal object, a decision not shared with it, or another partner's task, in the
JSON, the HTML, the PDF and the map alike.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import changes, objects, threat_level, timetravel
from app.domain.activation import Activation
from app.domain.actor import Actor
from app.domain.enums import (
    SEVERITY_ORDER,
    Entity,
    EventStatus,
    IncidentStatus,
    Language,
    SitrepStatus,
    TaskStatus,
    ZoneStatus,
)
from app.domain.features import plain
from app.domain.objects import ListFilter
from app.domain.position import Position
from app.domain.registry import BY_ENTITY
from app.domain.sitrep import (
    SPEC,
    Approval,
    Sitrep,
    SitrepDraft,
    SitrepPicture,
    SitrepRecord,
    frozen,
)
from app.domain.visibility import Scope
from app.errors import ProblemError, conflict, validation_problem

BRUSSELS = ZoneInfo("Europe/Brussels")
OPEN_INCIDENT = [IncidentStatus.reported, IncidentStatus.confirmed, IncidentStatus.ongoing]
OPEN_TASK = [TaskStatus.open, TaskStatus.in_progress, TaskStatus.blocked]
NOT_CANCELLED = [s.value for s in EventStatus if s != EventStatus.cancelled]
# Per kind, at most this many objects in one picture: far beyond any activation the crisis
# centre has run (the papal visit counted a few hundred), and a bound on the report's size.
MAX_ITEMS = 2000
MAX_CHANGES = 1000
# What "what changed" lists: the picture's kinds, and the cell's objects of this activation.
SITUATION_KINDS = ["incident", "planned_event", "demonstration", "zone", "activation"]
CELL_KINDS = ["task", "decision", "position"]
# A clock a little ahead of the server's is not a time in the future.
SKEW = timedelta(minutes=1)

# What each kind's item keeps of the object, beyond what every item keeps.
COMMON = ("entity", "ref", "title", "visibility", "shared_with", "created_by", "municipality")
KEEP: dict[str, tuple[str, ...]] = {
    "incident": ("category", "severity", "status", "place", "occurred_at", "reported_at"),
    "zone": ("kind", "status", "valid_from", "valid_to"),
    "planned_event": ("kind", "status", "starts_at", "ends_at", "venue", "expected_attendance"),
    "demonstration": (
        "status",
        "authorisation",
        "starts_at",
        "ends_at",
        "organiser",
        "expected_participants",
    ),
    "decision": ("decided_at", "decided_by_name", "basis", "discipline", "corrects_id"),
    "task": ("status", "priority", "due_at", "owner_organisation", "owner_user"),
    "activation": ("level", "coordinator", "status", "phase", "opened_at", "closed_at"),
}


def _field(name: str, msg: str) -> ProblemError:
    return validation_problem([{"loc": ["body", "properties", name], "msg": msg}])


def _item(feature: dict[str, Any], *, geometry: bool = True) -> dict[str, Any]:
    props = feature["properties"]
    item = {"id": feature["id"], **{k: props.get(k) for k in (*COMMON, *KEEP[props["entity"]])}}
    if geometry:
        item["geometry"] = feature.get("geometry")
    return item


def _day(at: datetime) -> tuple[datetime, datetime]:
    """The Brussels day holding `at`, as UTC times (23 or 25 hours when the clocks change)."""
    day = at.astimezone(BRUSSELS).date()
    start = datetime.combine(day, time(0), BRUSSELS)
    end = datetime.combine(day + timedelta(days=1), time(0), BRUSSELS)
    return start.astimezone(UTC), end.astimezone(UTC)


async def _at(
    session: AsyncSession, entity: Entity, at: datetime, f: ListFilter, geometry: bool = True
) -> tuple[list[dict[str, Any]], bool]:
    features, more = await timetravel.page_at(
        session, BY_ENTITY[entity], at, f, Scope(), MAX_ITEMS, None
    )
    return [_item(feat, geometry=geometry) for feat in features], more


def _change(c: changes.Change) -> dict[str, Any]:
    props = c.feature.get("properties") or {}
    spec = BY_ENTITY.get(Entity(c.entity)) if c.entity in Entity.__members__ else None
    status = props.get(spec.status_field) if spec and spec.status_field else None
    return {
        "seq": c.seq,
        "entity": c.entity,
        "op": c.op,
        "id": str(c.entity_id),
        "at": plain(c.at),
        "by": c.actor,
        "version": c.version,
        "ref": props.get("ref"),
        "title": props.get("title"),
        "status": status,
        "severity": props.get("severity"),
        # Who may read the change: the object's audience as that change left it.
        "visibility": props.get("visibility"),
        "shared_with": props.get("shared_with") or [],
        "created_by": props.get("created_by"),
    }


async def picture(
    session: AsyncSession, activation: Activation | None, at: datetime, since: datetime
) -> dict[str, Any]:
    """Everything a SITREP at `at` can show, whole (every reader's part is cut from it)."""
    start, end = _day(at)
    truncated: list[str] = []
    content: dict[str, Any] = {"at": plain(at), "since": plain(since)}
    wanted = {
        "incidents": (Entity.incident, ListFilter(status=[s.value for s in OPEN_INCIDENT])),
        "zones": (Entity.zone, ListFilter(status=[ZoneStatus.active.value], start=at, end=at)),
        "events": (Entity.planned_event, ListFilter(status=NOT_CANCELLED, start=start, end=end)),
        "demonstrations": (
            Entity.demonstration,
            ListFilter(status=NOT_CANCELLED, start=start, end=end),
        ),
    }
    if activation is not None:
        wanted["decisions"] = (Entity.decision, ListFilter(activation=activation.id, end=at))
        wanted["tasks"] = (
            Entity.task,
            ListFilter(activation=activation.id, status=[s.value for s in OPEN_TASK]),
        )
    for key, (entity, f) in wanted.items():
        content[key], more = await _at(session, entity, at, f, geometry=key not in ("tasks",))
        if more:
            truncated.append(key)
    for key in ("decisions", "tasks"):
        content.setdefault(key, [])
    content["activation"] = None
    if activation is not None:
        found = await timetravel.feature_at(
            session, BY_ENTITY[Entity.activation], activation.id, at, Scope()
        )
        content["activation"] = _item(found, geometry=False) if found else None
    records, total = await changes.changes_between(
        session,
        since,
        at,
        SITUATION_KINDS,
        MAX_CHANGES,
        activation=activation.id if activation else None,
        activation_entities=CELL_KINDS,
    )
    content["changes"] = [_change(c) for c in records]
    content["changes_total"] = total
    # The national threat level that stood then (public: every reader's part shows it).
    content["threat_level"] = (await threat_level.standing(session, at, Scope())).as_json()
    content["truncated"] = truncated
    return content


async def cell_organisations(session: AsyncSession, activation_id: uuid.UUID) -> list[str]:
    """The partner organisations holding a seat in the activation's cell."""
    rows = await session.scalars(
        select(Position.holder_organisation)
        .where(Position.activation_id == activation_id, Position.holder_organisation.isnot(None))
        .distinct()
    )
    return sorted(str(r) for r in rows)


TITLES = {
    "activation": {
        "fr": "SITREP n° {n} — {ref}",
        "nl": "SITREP nr. {n} — {ref}",
        "en": "SITREP no. {n} — {ref}",
    },
    "daily": {
        "fr": "SITREP quotidien n° {n} — {day}",
        "nl": "Dagelijks SITREP nr. {n} — {day}",
        "en": "Daily SITREP no. {n} — {day}",
    },
}


async def generate(
    session: AsyncSession, actor: Actor, draft: SitrepDraft, now: datetime
) -> objects.Written:
    """A new draft SITREP, the next of its series, with its picture at `draft.picture_at` (by
    default now). In the caller's transaction; the caller commits. Nothing is written when the
    activation is unknown or the time is not one a SITREP can report."""
    at = draft.picture_at or now
    if at > now + SKEW:
        raise _field("picture_at", "in the future: a SITREP reports what has happened")
    activation = None
    if draft.activation_id is not None:
        activation = await session.get(Activation, draft.activation_id)
        if activation is None:
            raise _field("activation_id", f"no activation with id {draft.activation_id}")
        if at < activation.opened_at:
            raise _field(
                "picture_at",
                f"before activation {activation.ref} was opened "
                f"({activation.opened_at.isoformat()})",
            )
        series = str(activation.id)
    else:
        series = f"daily-{at.astimezone(BRUSSELS).year}"
    # One number at a time per series; the unique index (series, number) guards it as well.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"sitrep:{series}"}
    )
    previous = await session.scalar(
        select(Sitrep).where(Sitrep.series == series).order_by(Sitrep.number.desc()).limit(1)
    )
    if previous is not None and at < previous.picture_at:
        raise _field(
            "picture_at",
            f"before the picture of SITREP no. {previous.number} "
            f"({previous.picture_at.isoformat()}): a series reports later and later times",
        )
    if previous is not None:
        since = previous.picture_at
    elif activation is not None:
        since = activation.opened_at
    else:
        since = at - timedelta(days=1)
    # Before the feed's horizon (app.domain.retention) the changes are no longer kept: what
    # changed is told from the horizon on, and the SITREP says so by its `since_at`.
    horizon = (await changes.kept(session)).since
    if horizon is not None and since < horizon:
        since = horizon
    number = previous.number + 1 if previous is not None else 1
    content = await picture(session, activation, at, since)
    shared_with = draft.shared_with
    if shared_with is None:
        shared_with = await cell_organisations(session, activation.id) if activation else []
    lang = draft.language.value
    if activation is not None:
        title = TITLES["activation"][lang].format(n=number, ref=activation.ref)
    else:
        title = TITLES["daily"][lang].format(
            n=number, day=at.astimezone(BRUSSELS).strftime("%d/%m/%Y")
        )
    record = SitrepRecord(
        title=draft.title or title,
        description=draft.description,
        visibility=draft.visibility,
        shared_with=shared_with,
        exercise=draft.exercise
        if draft.exercise is not None
        else bool(activation and activation.exercise),
        activation_id=draft.activation_id,
        series=series,
        number=number,
        picture_at=at,
        since_at=since,
        previous_id=previous.id if previous else None,
        summary=draft.summary,
        next_steps=draft.next_steps,
        language=draft.language,
    )
    written = await objects.create(session, SPEC, record, None, actor)
    session.add(SitrepPicture(sitrep_id=written.id, content=content))
    await session.flush()
    return written


async def approve(
    session: AsyncSession,
    actor: Actor,
    sitrep_id: uuid.UUID,
    expected: int | None,
    scope: ColumnElement[bool] | None,
    now: datetime,
) -> objects.Written:
    """Approve the draft as it stands (`expected`: the version the approver read, if given):
    from then on it is frozen."""
    row = await objects.get(session, SPEC, sitrep_id, scope, for_update=True)
    assert isinstance(row, Sitrep)
    if expected is not None and row.version != expected:
        raise objects.stale(SPEC, row, expected)
    if row.status == SitrepStatus.approved:
        raise frozen(f"SITREP {row.ref}", row.approved_by, row.approved_at)
    approval = Approval(status=SitrepStatus.approved, approved_by=actor.name, approved_at=now)
    return await objects.update(session, SPEC, sitrep_id, approval, None, row.version, actor, scope)


async def delete_draft(
    session: AsyncSession, actor: Actor, sitrep_id: uuid.UUID, expected: int | None
) -> None:
    """Delete a draft made in error (its picture goes with it); an approved SITREP stays."""
    row = await objects.get(session, SPEC, sitrep_id, None, for_update=True)
    assert isinstance(row, Sitrep)
    if row.status == SitrepStatus.approved:
        raise frozen(f"SITREP {row.ref}", row.approved_by, row.approved_at)
    await objects.remove(session, SPEC, sitrep_id, expected, actor)


# ---- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """One reader's SITREP: the object's Feature and the part of its picture they may see."""

    feature: dict[str, Any]
    content: dict[str, Any]
    figures: dict[str, Any]
    partner: str | None  # the organisation it was cut for, if a partner's


def _open_by(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Open incidents by severity, and by municipality and severity."""
    by_severity = Counter(i.get("severity") for i in items)
    table: dict[str, Counter[str]] = {}
    names: dict[str, dict[str, str]] = {}
    for i in items:
        m = i.get("municipality") or {}
        code = m.get("code") or "-"
        names[code] = {"fr": m.get("name_fr") or "", "nl": m.get("name_nl") or ""}
        table.setdefault(code, Counter())[i.get("severity") or ""] += 1
    return {
        "by_severity": {s.value: by_severity.get(s.value, 0) for s in SEVERITY_ORDER},
        "by_municipality": [
            {
                "code": code,
                "name_fr": names[code]["fr"],
                "name_nl": names[code]["nl"],
                "counts": {s.value: table[code].get(s.value, 0) for s in SEVERITY_ORDER},
                "total": sum(table[code].values()),
            }
            for code in sorted(table, key=lambda c: (-sum(table[c].values()), c))
        ],
    }


def cut(
    feature: dict[str, Any], content: dict[str, Any], scope: Scope, organisation: str | None
) -> View:
    """The part of a SITREP's picture a reader of `scope` sees, with its figures."""

    def seen(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [i for i in items if scope.sees(i)]

    at = datetime.fromisoformat(content["at"])
    part: dict[str, Any] = {
        "at": content["at"],
        "since": content["since"],
        "activation": content["activation"]
        if content["activation"] and scope.sees(content["activation"])
        else None,
    }
    for key in ("incidents", "zones", "events", "demonstrations", "decisions", "tasks"):
        part[key] = seen(content[key])
    # SITREPs generated before the threat level was recorded have none.
    part["threat_level"] = content.get("threat_level")
    part["changes"] = seen(content["changes"])
    overdue = [
        t["id"]
        for t in part["tasks"]
        if t.get("due_at") and datetime.fromisoformat(t["due_at"]) < at
    ]
    figures = {
        "open_incidents": len(part["incidents"]),
        **_open_by(part["incidents"]),
        "active_zones": len(part["zones"]),
        "events_today": len(part["events"]),
        "demonstrations_today": len(part["demonstrations"]),
        "decisions": len(part["decisions"]),
        "open_tasks": len(part["tasks"]),
        "overdue_tasks": len(overdue),
        "overdue": overdue,
        "changes": len(part["changes"]),
    }
    # How many changes the list left out is SITCEN's to know: a partner's count would tell of
    # changes it may not see.
    if scope.everything:
        part["changes_total"] = content["changes_total"]
        part["truncated"] = content["truncated"]
    return View(feature, part, figures, organisation)


async def stored_picture(session: AsyncSession, sitrep_id: uuid.UUID) -> dict[str, Any]:
    found = await session.get(SitrepPicture, sitrep_id)
    if found is None:  # written with the SITREP, in its transaction: never missing
        raise conflict(f"SITREP {sitrep_id} has no picture")
    return found.content


def as_json(view: View) -> dict[str, Any]:
    return {
        "sitrep": view.feature,
        "for_organisation": view.partner,
        "figures": view.figures,
        "picture": view.content,
    }


def is_language(value: str | None) -> bool:
    return value in Language.__members__
