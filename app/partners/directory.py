"""The contact directory: each organisation's services and functions with their 24/7 numbers,
e-mail and radio talk-group; the schedule on which an organisation confirms them (twice a year
by default) and the reminders it is owed; and the contacts an emergency plan names, resolved
from the directory when the plan is read (app.domain.plan holds their ids only).

A partner keeps and reads its own organisation's entries; another's answers as an unknown one
does (app.partners.access)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import organisations
from app.domain.objects import like_pattern
from app.domain.plan import Plan
from app.errors import not_found
from app.partners.models import (
    ConfirmationState,
    DirectoryConfirmation,
    DirectoryEntry,
    DirectoryReminder,
    Organisation,
    ReminderKind,
)
from app.partners.schemas import DirectoryEntryIn, DirectoryEntryPatch
from app.partners.service import require_organisation
from app.settings import Settings


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def entry_json(e: DirectoryEntry) -> dict[str, Any]:
    return {
        "id": str(e.id),
        "organisation": e.organisation,
        "function": e.function,
        "name": e.name,
        "phone_24_7": e.phone_24_7,
        "phone": e.phone,
        "email": e.email,
        "radio_talkgroup": e.radio_talkgroup,
        "notes": e.notes,
        "active": e.active,
        "created_at": _iso(e.created_at),
        "created_by": e.created_by,
        "updated_at": _iso(e.updated_at),
        "updated_by": e.updated_by,
    }


async def entries(
    session: AsyncSession,
    organisation: str | None,
    *,
    active: bool | None = None,
    q: str | None = None,
) -> list[DirectoryEntry]:
    query = select(DirectoryEntry).order_by(DirectoryEntry.organisation, DirectoryEntry.function)
    if organisation is not None:
        query = query.where(DirectoryEntry.organisation == organisation)
    if active is not None:
        query = query.where(DirectoryEntry.active.is_(active))
    if q:
        pattern = like_pattern(q)
        query = query.where(
            or_(
                DirectoryEntry.function.ilike(pattern, escape="\\"),
                DirectoryEntry.name.ilike(pattern, escape="\\"),
                DirectoryEntry.radio_talkgroup.ilike(pattern, escape="\\"),
            )
        )
    return list((await session.scalars(query)).all())


async def get_entry(
    session: AsyncSession, entry_id: uuid.UUID, within: str | None, *, for_update: bool = False
) -> DirectoryEntry:
    """The entry, if `within` (a partner's organisation; None: SITCEN, any) holds it: another
    organisation's answers word for word as an unknown id does."""
    entry = await session.get(DirectoryEntry, entry_id, with_for_update=for_update)
    if entry is None or (within is not None and entry.organisation != within):
        raise not_found("directory entry", entry_id)
    return entry


async def add_entry(
    session: AsyncSession, org: str, body: DirectoryEntryIn, actor: str, now: datetime
) -> DirectoryEntry:
    await require_organisation(session, org)
    values = body.model_dump(exclude={"organisation"})
    entry = DirectoryEntry(id=uuid.uuid4(), organisation=org, **values)
    entry.created_at, entry.created_by = now, actor
    entry.updated_at, entry.updated_by = now, actor
    session.add(entry)
    await session.flush()
    return entry


def change_entry(
    entry: DirectoryEntry, body: DirectoryEntryPatch, actor: str, now: datetime
) -> DirectoryEntry:
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(entry, name, value)
    entry.updated_at, entry.updated_by = now, actor
    return entry


# ---- the confirmation schedule ------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """Where an organisation stands in its confirmation schedule at `now`.

    The period runs from the last confirmation; an organisation that never confirmed owes its
    first confirmation one period after its first entry was recorded (what SITCEN entered is
    taken as current when entered). With no entry and no confirmation nothing falls due, but
    the overdue report still lists it: SITCEN holds no contact of it."""

    organisation: str
    confirm_days: int  # in force: its own, or the service's
    own_days: int | None
    confirmed_at: datetime | None
    confirmed_by: str | None
    entries: int  # active entries
    due_at: datetime | None
    state: ConfirmationState

    def as_dict(self) -> dict[str, Any]:
        return {
            "organisation": self.organisation,
            "confirm_days": self.confirm_days,
            "own_confirm_days": self.own_days,
            "confirmed_at": _iso(self.confirmed_at),
            "confirmed_by": self.confirmed_by,
            "active_entries": self.entries,
            "due_at": _iso(self.due_at),
            "state": self.state.value,
        }


@dataclass(frozen=True)
class Policy:
    """The service's schedule (settings): how often, and how long before it falls due the
    reminder goes."""

    confirm_days: int
    reminder_days: int

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(settings.directory_confirm_days, settings.directory_reminder_days)


def _schedule(
    org: str,
    row: DirectoryConfirmation | None,
    first_entry_at: datetime | None,
    active: int,
    policy: Policy,
    now: datetime,
) -> Schedule:
    own = row.confirm_days if row else None
    days = own or policy.confirm_days
    confirmed_at = row.confirmed_at if row else None
    start = confirmed_at or first_entry_at
    due = start + timedelta(days=days) if start else None
    if confirmed_at is None:
        state = ConfirmationState.never_confirmed
    elif due is not None and now >= due:
        state = ConfirmationState.overdue
    elif due is not None and now >= due - timedelta(days=policy.reminder_days):
        state = ConfirmationState.due_soon
    else:
        state = ConfirmationState.confirmed
    return Schedule(
        org, days, own, confirmed_at, row.confirmed_by if row else None, active, due, state
    )


async def schedules(
    session: AsyncSession, policy: Policy, now: datetime, organisation: str | None = None
) -> list[Schedule]:
    """Every organisation's (or one's) place in its schedule, by code."""
    stats = (
        select(
            DirectoryEntry.organisation.label("organisation"),
            func.min(DirectoryEntry.created_at).label("first_at"),
            func.count().filter(DirectoryEntry.active).label("active"),
        )
        .group_by(DirectoryEntry.organisation)
        .subquery()
    )
    query = (
        select(Organisation.code, DirectoryConfirmation, stats.c.first_at, stats.c.active)
        .outerjoin(DirectoryConfirmation, DirectoryConfirmation.organisation == Organisation.code)
        .outerjoin(stats, stats.c.organisation == Organisation.code)
        .order_by(Organisation.code)
    )
    if organisation is not None:
        query = query.where(Organisation.code == organisation)
    rows = (await session.execute(query)).all()
    return [
        _schedule(code, row, first, active or 0, policy, now) for code, row, first, active in rows
    ]


async def schedule_of(
    session: AsyncSession, organisation: str, policy: Policy, now: datetime
) -> Schedule:
    found = await schedules(session, policy, now, organisation)
    if not found:
        await _require_path_organisation(session, organisation)
    return found[0]


async def _require_path_organisation(session: AsyncSession, organisation: str) -> None:
    """422 naming the path's organisation unless it names one."""
    await organisations.require_known(session, [organisation], ["path", "organisation"])


async def overdue(session: AsyncSession, policy: Policy, now: datetime) -> list[Schedule]:
    """SITCEN's report: the organisations whose confirmation is overdue or that never
    confirmed, the longest overdue first."""
    late = [
        s
        for s in await schedules(session, policy, now)
        if s.state in (ConfirmationState.overdue, ConfirmationState.never_confirmed)
    ]
    far_future = now + timedelta(days=36500)
    return sorted(late, key=lambda s: (s.due_at or far_future, s.organisation))


async def _confirmation_row(
    session: AsyncSession, organisation: str, actor: str, now: datetime
) -> DirectoryConfirmation:
    await _require_path_organisation(session, organisation)
    await session.execute(
        insert(DirectoryConfirmation)
        .values(organisation=organisation, updated_at=now, updated_by=actor)
        .on_conflict_do_nothing(index_elements=["organisation"])
    )
    row = await session.get(DirectoryConfirmation, organisation, with_for_update=True)
    assert row is not None  # inserted above, or there already
    return row


async def confirm(session: AsyncSession, organisation: str, actor: str, now: datetime) -> None:
    """The organisation's entries are confirmed as they stand, by `actor`, now: a new period
    starts (and with it new reminders, app.cell.directory_reminders)."""
    row = await _confirmation_row(session, organisation, actor, now)
    row.confirmed_at, row.confirmed_by = now, actor
    row.updated_at, row.updated_by = now, actor


async def set_confirm_days(
    session: AsyncSession, organisation: str, days: int | None, actor: str, now: datetime
) -> None:
    row = await _confirmation_row(session, organisation, actor, now)
    row.confirm_days = days
    row.updated_at, row.updated_by = now, actor


@dataclass(frozen=True)
class ReminderDue:
    organisation: str
    due_at: datetime
    kind: ReminderKind


async def reminders_due(session: AsyncSession, policy: Policy, now: datetime) -> list[ReminderDue]:
    """The reminders owed now and not yet sent: to each organisation with active entries, one
    before its confirmation falls due and one once it is overdue, per period. An organisation
    found already overdue gets the overdue reminder only."""
    owed: list[ReminderDue] = []
    for s in await schedules(session, policy, now):
        if s.entries == 0 or s.due_at is None:
            continue
        if now >= s.due_at:
            owed.append(ReminderDue(s.organisation, s.due_at, ReminderKind.overdue))
        elif now >= s.due_at - timedelta(days=policy.reminder_days):
            owed.append(ReminderDue(s.organisation, s.due_at, ReminderKind.due_soon))
    if not owed:
        return []
    sent = set(
        (
            await session.execute(
                select(
                    DirectoryReminder.organisation, DirectoryReminder.due_at, DirectoryReminder.kind
                ).where(DirectoryReminder.organisation.in_({r.organisation for r in owed}))
            )
        ).all()
    )
    overdue_sent = {(o, d) for o, d, k in sent if k == ReminderKind.overdue}
    return [
        r
        for r in owed
        if (r.organisation, r.due_at, r.kind.value) not in sent
        # Overdue and told so: the earlier, milder reminder would only repeat it.
        and (r.organisation, r.due_at) not in overdue_sent
    ]


async def record_reminder(
    session: AsyncSession, reminder: ReminderDue, alert_id: uuid.UUID | None, now: datetime
) -> bool:
    """Record a reminder as sent (`alert_id`) or given up (None); False if another instance
    recorded it first (then the caller's transaction, with its alert, is rolled back)."""
    inserted = await session.execute(
        insert(DirectoryReminder)
        .values(
            organisation=reminder.organisation,
            due_at=reminder.due_at,
            kind=reminder.kind.value,
            alert_id=alert_id,
            sent_at=now,
        )
        .on_conflict_do_nothing()
        .returning(DirectoryReminder.alert_id)
    )
    return inserted.first() is not None


# ---- the contacts a plan names -----------------------------------------------------------------


@dataclass(frozen=True)
class PlanContact:
    """A directory entry a plan names, as it stands now."""

    entry: DirectoryEntry

    @property
    def organisation(self) -> str:
        return self.entry.organisation


async def _entries_by_id(
    session: AsyncSession, ids: list[uuid.UUID]
) -> dict[uuid.UUID, DirectoryEntry]:
    if not ids:
        return {}
    rows = await session.scalars(select(DirectoryEntry).where(DirectoryEntry.id.in_(ids)))
    return {e.id: e for e in rows.all()}


async def plan_contacts(session: AsyncSession, plan_id: uuid.UUID) -> list[PlanContact]:
    """The active directory entries a plan names, in the plan's order, with their current
    numbers: what an activation that follows the plan pages (its organisations are
    `{c.organisation for c in ...}`). An unknown plan names nobody; an entry since removed or
    made inactive is left out."""
    ids = await session.scalar(select(Plan.contact_ids).where(Plan.id == plan_id))
    found = await _entries_by_id(session, list(ids or []))
    return [PlanContact(found[i]) for i in ids or [] if i in found and found[i].active]


async def resolved(
    session: AsyncSession, ids: list[uuid.UUID], viewer: str | None
) -> list[dict[str, Any]]:
    """A plan's contacts as its reader may see them, in the plan's order. SITCEN (`viewer`
    None) and the entry's own organisation see the whole entry; another partner sees which
    organisation and function the plan names, never the entry's numbers, names, notes or id.
    An entry removed since the plan was written is said to be so."""
    found = await _entries_by_id(session, ids)
    out: list[dict[str, Any]] = []
    for i in ids:
        entry = found.get(i)
        if entry is None:
            out.append({"id": str(i), "removed": True})
        elif viewer is None or entry.organisation == viewer:
            out.append({**entry_json(entry), "restricted": False})
        else:
            out.append(
                {"organisation": entry.organisation, "function": entry.function, "restricted": True}
            )
    return out
