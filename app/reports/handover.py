"""The shift handover: what the outgoing team of the watch leaves to the incoming one.

Built from the change feed and the picture: the objects new, changed, closed and deleted in the
shift (by kind, from the feed's commit times), the open incidents by severity, the running GCC
activations, the open and overdue tasks, the partners' alerts still unacknowledged, and the
notes the outgoing team writes. A draft while the notes are written; handed over, it is frozen
(the table's trigger refuses any change but the one acknowledgement); the incoming team
acknowledges it once, naming who and when.

The handover is kept in the logbook: handing over and acknowledging each write a logbook entry
of kind `handover` through the one write path, so the main-courante (append-only, in the
change feed, live on every dashboard) says when the shift was handed over, by whom, what it
left and who took it. The handover's own row keeps the structured content the dashboard shows.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any

from pydantic import Field, StringConstraints
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert, Recipient
from app.domain import changes, logbook_entry, objects
from app.domain.activation import Activation
from app.domain.actor import Actor
from app.domain.enums import (
    ActivationStatus,
    ChangeOp,
    ChecklistStatus,
    Entity,
    HandoverStatus,
    LogbookKind,
    Severity,
    TaskStatus,
)
from app.domain.features import plain
from app.domain.incident import SPEC as INCIDENT
from app.domain.incident import Incident
from app.domain.registry import BY_ENTITY
from app.domain.schema import Input, Time
from app.domain.spec import EntitySpec
from app.domain.task import Task
from app.errors import conflict, not_found, stale_version, validation_problem
from app.reports.models import Handover, HandoverEscalation
from app.reports.shifts import (
    LOCAL_TIME,
    Shift,
    due_change,
    is_change,
    local_label,
    shift_ending,
)
from app.settings import Settings

# Each list of a handover names at most this many objects (its count says how many there are):
# a handover is read in a few minutes at a shift change, not searched.
LISTED = 100
# Partner alerts still unacknowledged are those of the last two days: older ones were followed
# up by the shifts before (and are in the alerts panel).
ALERTS_SINCE = timedelta(hours=48)
DONE_TASKS = frozenset({TaskStatus.done, TaskStatus.cancelled})

Team = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Notes = Annotated[str, Field(max_length=20_000)]


@dataclass(frozen=True)
class ShiftPolicy:
    """The watch's shift changes and the handover's deadlines, from the settings."""

    changes: tuple[time, ...]
    lead: timedelta
    escalate_after: timedelta
    duty_officer: str | None = None

    @classmethod
    def of(cls, settings: Settings) -> ShiftPolicy:
        return cls(
            settings.shift_changes,
            timedelta(minutes=settings.handover_lead_minutes),
            timedelta(minutes=settings.handover_escalation_minutes),
            settings.handover_duty_officer,
        )


class HandoverStart(Input):
    """Start the handover of a shift (by default the one the watch is at)."""

    shift_end: Time
    team: Team | None = None
    incoming_team: Team | None = None
    notes: Notes | None = None


class HandoverNotes(Input):
    """What the outgoing team changes in its draft."""

    team: Team | None = None
    incoming_team: Team | None = None
    notes: Notes | None = None


class HandoverAcknowledgement(Input):
    note: Annotated[str, Field(max_length=5_000)] | None = None


# ---- what the shift left


def _spec(entity: str) -> EntitySpec | None:
    try:
        return BY_ENTITY[Entity(entity)]
    except (ValueError, KeyError):
        return None


def _item(
    entity: str, feature: dict[str, Any], at: datetime | None, by: str | None
) -> dict[str, Any]:
    props = feature.get("properties") or {}
    spec = _spec(entity)
    status_field = spec.status_field if spec else "status"
    item = {
        "entity": entity,
        "id": feature.get("id"),
        "ref": props.get("ref"),
        "title": props.get("title"),
        "status": props.get(status_field) if status_field else None,
        "exercise": bool(props.get("exercise")),
        "at": plain(at),
        "by": by,
    }
    for extra in ("severity", "kind", "category", "level", "priority", "due_at"):
        if props.get(extra) is not None:
            item[extra] = props[extra]
    return item


# For the watch a task done or a checklist completed has ended as much as a closed incident,
# though neither is a `close` (a permission, app.domain.spec) of its kind.
ENDED: dict[str, frozenset[str]] = {
    Entity.task.value: frozenset({TaskStatus.done.value}),
    Entity.checklist.value: frozenset({ChecklistStatus.completed.value}),
}


def _closed(entity: str, before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
    """Whether the object ended in the shift: it is in a status that ends it, and was not."""
    spec = _spec(entity)
    if spec is None or spec.status_field is None:
        return False
    ending = {str(s) for s in spec.closing} | ENDED.get(entity, frozenset())
    status_after = (after.get("properties") or {}).get(spec.status_field)
    status_before = ((before or {}).get("properties") or {}).get(spec.status_field)
    return status_after in ending and status_before not in ending


def _group(t: changes.Touched) -> str:
    if t.op == ChangeOp.deleted:
        return "deleted"
    if t.created:
        return "new"
    return "closed" if _closed(t.entity, t.before, t.feature) else "changed"


async def changes_in(session: AsyncSession, start: datetime, until: datetime) -> dict[str, Any]:
    """The objects new, changed, closed and deleted after `start` and up to `until`, by kind, as
    the change feed recorded them (its commit times); the latest first."""
    order = [e.value for e in BY_ENTITY]
    records, touched = await changes.touched_between(session, order, start, until)
    kinds: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for t in touched:
        groups = kinds.setdefault(t.entity, {"new": [], "changed": [], "closed": [], "deleted": []})
        groups[_group(t)].append(_item(t.entity, t.feature, t.at, t.actor))
    out: dict[str, Any] = {}
    for entity in sorted(kinds, key=order.index):
        groups = kinds[entity]
        out[entity] = {
            "counts": {g: len(items) for g, items in groups.items()},
            **{g: items[-LISTED:][::-1] for g, items in groups.items()},
        }
    return {"records": records, "objects": len(touched), "kinds": out}


async def _open_incidents(session: AsyncSession) -> dict[str, Any]:
    still_open = Incident.status.not_in(list(INCIDENT.closing))
    counts = await session.execute(
        select(Incident.severity, Incident.exercise, func.count())
        .where(still_open)
        .group_by(Incident.severity, Incident.exercise)
    )
    by_severity: Counter[str] = Counter({s.value: 0 for s in Severity})
    exercise = 0
    for severity, is_exercise, n in counts:
        if is_exercise:
            exercise += n
        else:
            by_severity[severity] += n
    rank = {s.value: i for i, s in enumerate(reversed(list(Severity)))}
    rows = await session.scalars(
        select(Incident)
        .where(still_open, Incident.exercise.is_(False))
        .order_by(Incident.occurred_at.desc().nulls_last())
        .limit(LISTED)
    )
    listed = sorted(rows, key=lambda i: rank.get(i.severity, 9))
    return {
        "by_severity": dict(by_severity),
        "total": sum(by_severity.values()),
        "exercise": exercise,
        "items": [
            {
                "id": str(i.id),
                "ref": i.ref,
                "title": i.title,
                "severity": i.severity,
                "status": i.status,
                "category": i.category,
                "occurred_at": plain(i.occurred_at),
            }
            for i in listed
        ],
    }


async def _running_activations(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Activation)
        .where(Activation.status != ActivationStatus.closed)
        .order_by(Activation.opened_at.desc().nulls_last())
        .limit(LISTED)
    )
    return [
        {
            "id": str(a.id),
            "ref": a.ref,
            "title": a.title,
            "level": a.level,
            "coordinator": a.coordinator,
            "phase": a.phase,
            "opened_at": plain(a.opened_at),
            "exercise": a.exercise,
        }
        for a in rows
    ]


async def _tasks(session: AsyncSession, now: datetime) -> dict[str, Any]:
    pending = Task.status.not_in([s.value for s in DONE_TASKS])
    total = await session.scalar(select(func.count()).select_from(Task).where(pending)) or 0
    overdue_clause = pending & (Task.due_at <= now)
    overdue = await session.scalar(select(func.count()).select_from(Task).where(overdue_clause))
    rows = await session.scalars(
        select(Task).where(pending).order_by(Task.due_at.asc().nulls_last()).limit(LISTED)
    )
    return {
        "open": total,
        "overdue": overdue or 0,
        "items": [
            {
                "id": str(t.id),
                "ref": t.ref,
                "title": t.title,
                "status": t.status,
                "priority": t.priority,
                "due_at": plain(t.due_at),
                "overdue": t.due_at is not None and t.due_at <= now,
                "owner_organisation": t.owner_organisation,
                "owner_user": t.owner_user,
                "activation_id": str(t.activation_id) if t.activation_id else None,
            }
            for t in rows
        ],
    }


async def _unacknowledged_alerts(session: AsyncSession, now: datetime) -> dict[str, Any]:
    clause = (
        Recipient.acknowledged_at.is_(None)
        & (Alert.sent_at > now - ALERTS_SINCE)
        & (Alert.sent_at <= now)
    )
    total = await session.scalar(
        select(func.count())
        .select_from(Recipient)
        .join(Alert, Alert.id == Recipient.alert_id)
        .where(clause)
    )
    rows = await session.execute(
        select(Alert, Recipient)
        .join(Recipient, Recipient.alert_id == Alert.id)
        .where(clause)
        .order_by(Alert.sent_at.desc())
        .limit(LISTED)
    )
    return {
        "total": total or 0,
        "since": plain(now - ALERTS_SINCE),
        "items": [
            {
                "alert": str(a.id),
                "ref": a.ref,
                "headline": {lang: t.get("headline", "") for lang, t in a.texts.items()},
                "severity": a.severity,
                "status": a.status,
                "sent_at": plain(a.sent_at),
                "organisation": r.organisation,
                "level": r.level,
                "deadline_at": plain(r.deadline_at),
                "flagged_at": plain(r.flagged_at),
            }
            for a, r in rows
        ],
    }


async def build(session: AsyncSession, shift: Shift, now: datetime) -> dict[str, Any]:
    """What a shift leaves: its changes up to its end (or up to now, before it ends), and the
    picture as it stands now."""
    until = min(now, shift.end)
    return {
        "from": plain(shift.start),
        "until": plain(until),
        "built_at": plain(now),
        "changes": await changes_in(session, shift.start, until),
        "incidents": await _open_incidents(session),
        "activations": await _running_activations(session),
        "tasks": await _tasks(session, now),
        "alerts": await _unacknowledged_alerts(session, now),
    }


# ---- the handover's life


def as_json(h: Handover, preview: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": str(h.id),
        "ref": h.ref,
        "status": h.status,
        "version": h.version,
        "shift_start": plain(h.shift_start),
        "shift_end": plain(h.shift_end),
        "team": h.team,
        "incoming_team": h.incoming_team,
        "notes": h.notes,
        "created_at": plain(h.created_at),
        "created_by": h.created_by,
        "updated_at": plain(h.updated_at),
        "updated_by": h.updated_by,
        "handed_over_at": plain(h.handed_over_at),
        "handed_over_by": h.handed_over_by,
        "acknowledged_at": plain(h.acknowledged_at),
        "acknowledged_by": h.acknowledged_by,
        "acknowledgement_note": h.acknowledgement_note,
        "logbook": [str(e) for e in (h.handed_over_entry_id, h.acknowledged_entry_id) if e],
        # A draft shows what it would hand over now; afterwards, what it handed over.
        "content": h.content if h.content is not None else preview,
    }


def _ref(shift_end: datetime) -> str:
    """HO-20261207-1900: the shift change it is for, Brussels time (to the second and beyond
    only for a watch whose changes are not on the minute, as tests make)."""
    local = shift_end.astimezone(LOCAL_TIME)
    exact = "-%S%f" if local.second or local.microsecond else ""
    return "HO-" + local.strftime("%Y%m%d-%H%M" + exact)


async def get(session: AsyncSession, handover_id: uuid.UUID, *, lock: bool = False) -> Handover:
    query = select(Handover).where(Handover.id == handover_id)
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise not_found("handover", handover_id)
    return row


async def for_shift(session: AsyncSession, shift_end: datetime) -> Handover | None:
    return await session.scalar(select(Handover).where(Handover.shift_end == shift_end))


async def escalation_of(session: AsyncSession, shift_end: datetime) -> HandoverEscalation | None:
    return await session.get(HandoverEscalation, shift_end)


async def current(
    session: AsyncSession, policy: ShiftPolicy, now: datetime, *, with_preview: bool = True
) -> dict[str, Any]:
    """The handover the watch is at: its shift, whether the dashboard should prompt (the change
    is near or past and the handover not acknowledged), and the handover or what it would be
    (`with_preview`: the dashboards' minute-by-minute check of the prompt goes without)."""
    change = due_change(now, policy.changes, policy.lead)
    shift = shift_ending(change, policy.changes)
    row = await for_shift(session, change)
    preview = None
    if with_preview and (row is None or row.status == HandoverStatus.draft):
        preview = await build(session, shift, now)
    escalation = await escalation_of(session, change)
    acknowledged = row is not None and row.status == HandoverStatus.acknowledged
    return {
        "now": plain(now),
        "shift": {"start": plain(shift.start), "end": plain(shift.end)},
        "escalation_due_at": plain(change + policy.escalate_after),
        "escalated_at": plain(escalation.escalated_at) if escalation else None,
        "prompt": not acknowledged,
        "handover": as_json(row, preview) if row is not None else None,
        "preview": preview if row is None else None,
    }


async def listing(
    session: AsyncSession, limit: int, before: datetime | None
) -> list[dict[str, Any]]:
    query = select(Handover).order_by(Handover.shift_end.desc()).limit(limit)
    if before is not None:
        query = query.where(Handover.shift_end < before)
    return [as_json(h) for h in await session.scalars(query)]


def _check_shift(policy: ShiftPolicy, shift_end: datetime, now: datetime) -> None:
    if not is_change(shift_end, policy.changes):
        changes = ", ".join(t.strftime("%H:%M") for t in policy.changes)
        raise validation_problem(
            [
                {
                    "loc": ["body", "shift_end"],
                    "msg": f"{local_label(shift_end)} is not a shift change "
                    f"(the watch changes at {changes}, Brussels time)",
                }
            ]
        )
    if shift_end - now > policy.lead:
        raise validation_problem(
            [
                {
                    "loc": ["body", "shift_end"],
                    "msg": f"the shift ending {local_label(shift_end)} is still running: its "
                    f"handover starts at most {int(policy.lead.total_seconds() // 60)} minutes "
                    "before",
                }
            ]
        )


async def start(
    session: AsyncSession, policy: ShiftPolicy, body: HandoverStart, actor: Actor, now: datetime
) -> Handover:
    """The draft handover of a shift; one per shift (a second start is told of the first)."""
    change = body.shift_end
    _check_shift(policy, change, now)
    earlier = await for_shift(session, change)
    if earlier is not None:
        raise conflict(
            f"the shift ending {local_label(change)} already has its handover {earlier.ref}",
            handover=str(earlier.id),
        )
    shift = shift_ending(change, policy.changes)
    row = Handover(
        ref=_ref(change),
        shift_start=shift.start,
        shift_end=shift.end,
        status=HandoverStatus.draft,
        version=1,
        team=body.team,
        incoming_team=body.incoming_team,
        notes=body.notes,
        created_at=now,
        created_by=actor.name,
        updated_at=now,
        updated_by=actor.name,
    )
    try:
        async with session.begin_nested():  # two starting it at once: the second is told
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise conflict(f"the shift ending {local_label(change)} already has its handover") from None
    return row


def _refuse_stale(row: Handover, expected: int | None) -> None:
    if expected is not None and expected != row.version:
        raise stale_version(
            f"handover {row.ref} is at version {row.version}, not {expected}",
            current=as_json(row),
            version=row.version,
        )


def _refuse_unless_draft(row: Handover) -> None:
    if row.status != HandoverStatus.draft:
        raise conflict(
            f"handover {row.ref} was handed over by {row.handed_over_by} at "
            f"{local_label(row.handed_over_at or row.updated_at)}: it is never changed",
            state=row.status,
        )


async def amend(
    session: AsyncSession,
    handover_id: uuid.UUID,
    body: HandoverNotes,
    expected: int | None,
    actor: Actor,
    now: datetime,
) -> Handover:
    """Change a draft's notes or teams (If-Match: its version)."""
    row = await get(session, handover_id, lock=True)
    _refuse_unless_draft(row)
    _refuse_stale(row, expected)
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(row, name, value)
    row.version += 1
    row.updated_at, row.updated_by = now, actor.name
    await session.flush()
    return row


def _summary(row: Handover, content: dict[str, Any]) -> str:
    """The handover as the logbook keeps it: plain text, the same in every language's logbook
    (figures and references), the outgoing team's notes last."""
    changes = content["changes"]["kinds"]
    lines = [
        f"{row.ref} · {local_label(row.shift_start)} → {local_label(row.shift_end)}"
        + (f" · {row.team}" if row.team else "")
        + (f" → {row.incoming_team}" if row.incoming_team else ""),
    ]
    for entity, groups in changes.items():
        c = groups["counts"]
        lines.append(
            f"{entity}: +{c['new']} ~{c['changed']} ✕{c['closed']}"
            + (f" −{c['deleted']}" if c["deleted"] else "")
        )
    sev = content["incidents"]["by_severity"]
    lines.append("incidents: " + ", ".join(f"{k} {v}" for k, v in sev.items()))
    lines.append("GCC: " + (", ".join(a["ref"] for a in content["activations"]) or "—"))
    t = content["tasks"]
    lines.append(f"tasks: {t['open']} open, {t['overdue']} overdue")
    lines.append(f"alerts unacknowledged: {content['alerts']['total']}")
    if row.notes:
        lines.extend(["", row.notes])
    return "\n".join(lines)[:10_000]


async def log_entry(
    session: AsyncSession, title: str, text: str | None, actor: Actor, now: datetime
) -> uuid.UUID:
    """A logbook entry of kind `handover`, through the one write path (so in the feed)."""
    entry = logbook_entry.LogbookEntryCreate(
        title=title[:200], description=text, kind=LogbookKind.handover, occurred_at=now
    )
    written = await objects.create(session, logbook_entry.SPEC, entry, None, actor)
    return uuid.UUID(str(written.feature["id"]))


async def hand_over(
    session: AsyncSession,
    policy: ShiftPolicy,
    handover_id: uuid.UUID,
    expected: int | None,
    actor: Actor,
    now: datetime,
) -> Handover:
    """Freeze the draft: what the shift left, as it stands now, with the notes; into the
    logbook."""
    row = await get(session, handover_id, lock=True)
    _refuse_unless_draft(row)
    _refuse_stale(row, expected)
    content = await build(session, Shift(row.shift_start, row.shift_end), now)
    title = f"Relève / Overdracht / Handover {row.ref} — {local_label(row.shift_end)}"
    entry = await log_entry(session, title, _summary(row, content), actor, now)
    await session.execute(
        update(Handover)
        .where(Handover.id == row.id)
        .values(
            status=HandoverStatus.handed_over,
            content=content,
            version=row.version + 1,
            updated_at=now,
            updated_by=actor.name,
            handed_over_at=now,
            handed_over_by=actor.name,
            handed_over_entry_id=entry,
        )
    )
    await session.refresh(row)
    return row


async def acknowledge(
    session: AsyncSession,
    handover_id: uuid.UUID,
    body: HandoverAcknowledgement,
    actor: Actor,
    now: datetime,
) -> Handover:
    """The incoming team has read it: who and when, once; into the logbook."""
    row = await get(session, handover_id, lock=True)
    if row.status == HandoverStatus.draft:
        raise conflict(f"handover {row.ref} is not handed over yet", state=row.status)
    if row.status == HandoverStatus.acknowledged:
        raise conflict(
            f"handover {row.ref} was already acknowledged by {row.acknowledged_by} at "
            f"{local_label(row.acknowledged_at or row.updated_at)}",
            state=row.status,
            acknowledged_by=row.acknowledged_by,
            acknowledged_at=plain(row.acknowledged_at),
        )
    if actor.name == row.handed_over_by:
        raise conflict(
            f"{actor.name} handed {row.ref} over: the incoming team acknowledges it",
            state=row.status,
        )
    title = (
        f"Relève confirmée / Overdracht bevestigd / Handover acknowledged {row.ref} — {actor.name}"
    )
    entry = await log_entry(session, title, body.note, actor, now)
    await session.execute(
        update(Handover)
        .where(Handover.id == row.id)
        .values(
            status=HandoverStatus.acknowledged,
            version=row.version + 1,
            updated_at=now,
            updated_by=actor.name,
            acknowledged_at=now,
            acknowledged_by=actor.name,
            acknowledgement_note=body.note,
            acknowledged_entry_id=entry,
        )
    )
    await session.refresh(row)
    return row
