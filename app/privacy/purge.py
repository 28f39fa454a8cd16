"""Blanking the personal fields of closed objects past their retention (docs/privacy.md).

Each kind names its personal fields (`EntitySpec.personal_fields`: an incident's description, a
logbook entry's title and text); each collection has its retention, unset by default
(`SITCEN_PERSONAL_DATA_INCIDENT_DAYS`, `SITCEN_PERSONAL_DATA_LOGBOOK_ENTRY_DAYS`). An object is
due when

- it has a status that ends it (an incident closed or a false alarm) and it ended longer ago
  than the retention; or, for a kind without one (a logbook entry), it happened longer ago than
  the retention and every object it belongs to that can end (its incident, event,
  demonstration, zone, activation) has ended: a note on a running activation is kept whole;
- and one of its personal fields still holds something.

Its purge is a write like any other, through the one write path (`objects.redact`), attributed
to `system:privacy`: the object's next version and a change record with the fields blanked, so
every dashboard sees it at once. The facts stay: kind, status, severity, times, place,
geometry, municipality, who wrote it. A field that cannot be empty (a note's title) becomes
`PURGED`.

The feed's earlier records of the object hold the old values, and replay and `?at=` time
travel read them: they are blanked too (`changes.redact_history`), or the purge would purge
nothing; so are the copies rule alerts keep of the object's state (never sent) and, in the
alerts' texts, the values they quoted (a rule alert's body carries the description). The records
keep their number, operation, version, actor and time, so the feed stays whole and in order,
and the picture at any past instant is still exact but for the personal fields. Each run that
purged something is audited (`personal_data_purged`: how many of which kind, their references,
the fields, the records rewritten).

Instances take turns choosing what is due (an advisory lock); two that purge the same object
at once are serialised by its row lock, and the second finds nothing left to blank. Each object
is purged in a short transaction of its own, a batch of them per round, so no writer waits long
behind the purge.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, exists, not_, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import audit
from app.alerts.models import Alert
from app.background import Loop
from app.clock import Clock
from app.db import transaction
from app.domain import changes, objects
from app.domain.actor import Actor
from app.domain.enums import Entity
from app.domain.registry import BY_ENTITY, SPECS
from app.domain.spec import EntitySpec

log = logging.getLogger(__name__)

ACTOR = Actor("system:privacy", "system")
PURGED = "[purged]"
BATCH = 200
# pg_try_advisory_xact_lock key: "privacy" in ASCII, truncated to fit a bigint.
PURGE_LOCK = 0x70726976616379


# A rule alert keeps the object's state it was composed from (app.alerts.models.Alert.feature,
# never sent): its copy of the personal fields goes too.
_REDACT_ALERTS = text(
    "UPDATE alerts SET feature = jsonb_set(feature, '{properties}', "
    "(feature -> 'properties') || CAST(:blank AS jsonb)) "
    "WHERE entity_id = :id AND feature IS NOT NULL "
    "AND NOT (feature -> 'properties') @> CAST(:blank AS jsonb)"
)


@dataclass
class Purged:
    entity: str
    refs: list[str] = field(default_factory=list)
    records: int = 0  # earlier change records (and alerts' copies) rewritten


def blank_values(spec: EntitySpec) -> dict[str, Any]:
    """What each personal field of this kind becomes: nothing, or `PURGED` where it cannot be."""
    table = spec.model.__table__  # type: ignore[attr-defined]
    return {f: None if table.c[f].nullable else PURGED for f in spec.personal_fields}


def _holds_personal_data(spec: EntitySpec) -> ColumnElement[bool]:
    m = spec.model
    return or_(
        *(
            getattr(m, f).is_not(None) if value is None else getattr(m, f) != value
            for f, value in blank_values(spec).items()
        )
    )


def _ended(spec: EntitySpec) -> ColumnElement[bool] | None:
    """Whether an object of a kind that can end has ended; None for a kind that cannot."""
    if spec.status_field is None or not spec.closing:
        return None
    ended: ColumnElement[bool] = getattr(spec.model, spec.status_field).in_(
        [str(s) for s in spec.closing]
    )
    return ended


def _belongs_to_ended(spec: EntitySpec) -> list[ColumnElement[bool]]:
    """For each object this one belongs to that can end: it has ended (or is gone)."""
    m = spec.model
    clauses: list[ColumnElement[bool]] = []
    targets: list[tuple[str, str | None, EntitySpec]] = [
        (id_field, entity_field, other)
        for id_field, entity_field in spec.links.items()
        for other in SPECS
    ] + [(id_field, None, BY_ENTITY[e]) for id_field, e in spec.fixed_links.items()]
    for id_field, entity_field, other in targets:
        ended = _ended(other)
        if ended is None or other.entity == spec.entity:
            continue
        running: ColumnElement[bool] = exists().where(
            other.model.id == getattr(m, id_field), not_(ended)
        )
        if entity_field is not None:
            running = and_(getattr(m, entity_field) == other.entity.value, running)
        clauses.append(not_(running))
    return clauses


def due(spec: EntitySpec, cutoff: datetime) -> Any:
    """The ids of this kind's objects whose personal fields are due for blanking."""
    m = spec.model
    assert spec.window is not None, f"{spec.label}: no time to count the retention from"
    start, end = spec.window
    ended = _ended(spec)
    if ended is not None and end is not None:
        when = and_(ended, getattr(m, end) < cutoff)
    else:
        when = and_(getattr(m, start) < cutoff, *_belongs_to_ended(spec))
    return select(m.id).where(when, _holds_personal_data(spec)).order_by(m.id)


async def _purge_one(
    session: AsyncSession, spec: EntitySpec, object_id: uuid.UUID, blank: dict[str, Any]
) -> tuple[str, int] | None:
    m = spec.model
    old = (
        await session.execute(
            select(*(getattr(m, f) for f in blank)).where(m.id == object_id).with_for_update()
        )
    ).one_or_none()
    written = await objects.redact(session, spec, object_id, blank, ACTOR)
    if written is None or old is None:
        return None  # purged meanwhile by another instance
    records = await changes.redact_history(session, spec.entity, object_id, blank)
    alerts: Any = await session.execute(
        _REDACT_ALERTS, {"id": object_id, "blank": orjson.dumps(blank).decode()}
    )
    texts = await _redact_alert_texts(session, object_id, [v for v in old if v and v != PURGED])
    return str(written.feature["properties"]["ref"]), records + int(alerts.rowcount) + texts


async def _redact_alert_texts(session: AsyncSession, object_id: uuid.UUID, old: list[str]) -> int:
    """Alerts about the object quote its fields in their texts (a rule alert's body carries the
    description): each quoted value becomes `PURGED`. The alerts keep everything else: who
    was alerted, when, about what."""
    rows = (
        await session.execute(
            select(Alert.id, Alert.texts).where(Alert.entity_id == object_id).with_for_update()
        )
    ).all()
    rewritten = 0
    for alert_id, texts in rows:
        new = {
            lang: {key: _without(value, old) for key, value in fields.items()}
            for lang, fields in texts.items()
        }
        if new != texts:
            await session.execute(update(Alert).where(Alert.id == alert_id).values(texts=new))
            rewritten += 1
    return rewritten


def _without(value: Any, old: list[str]) -> Any:
    if not isinstance(value, str):
        return value
    for text_ in sorted(old, key=len, reverse=True):
        value = value.replace(text_, PURGED)
    return value


async def purge(
    sessions: async_sessionmaker[AsyncSession],
    retention: dict[Entity, timedelta],
    now: datetime,
    *,
    batch: int = BATCH,
) -> list[Purged] | None:
    """Blank what is due of each collection with a retention, at most `batch` objects of each
    per call; None when another instance is purging. Audited when something was purged."""
    done: list[Purged] = []
    for entity, keep in sorted(retention.items()):
        spec = BY_ENTITY[entity]
        if not spec.personal_fields:
            continue
        async with transaction(sessions) as session:
            if not await session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PURGE_LOCK}
            ):
                return None
            ids = list((await session.scalars(due(spec, now - keep).limit(batch))).all())
        if not ids:
            continue
        purged = Purged(entity.value)
        blank = blank_values(spec)
        for object_id in ids:
            # An object apiece: a writer waits at most for one object's records.
            async with transaction(sessions) as session:
                one = await _purge_one(session, spec, object_id, blank)
            if one is not None:
                purged.refs.append(one[0])
                purged.records += one[1]
        if not purged.refs:
            continue
        async with transaction(sessions) as session:
            await audit.record(
                session,
                audit.AuditKind.personal_data_purged,
                actor=ACTOR.name,
                detail={
                    "entity": entity.value,
                    "count": len(purged.refs),
                    "refs": purged.refs,
                    "fields": list(blank),
                    "history_records": purged.records,
                    "retention_days": keep / timedelta(days=1),
                },
            )
        log.info(
            "privacy: personal fields of %d %s(s) blanked (%d earlier records)",
            len(purged.refs),
            spec.label,
            purged.records,
        )
        done.append(purged)
    return done


async def erase(
    sessions: async_sessionmaker[AsyncSession], refs: list[str], actor: str
) -> list[Purged]:
    """Blank the personal fields of the objects named by reference now, whatever their status
    or age: an erasure the DPO ordered (`sitcen privacy erase`). Audited like the purge, with
    who ordered it. ValueError for a reference of no object, or of a kind without personal
    fields; then nothing is erased."""
    done: dict[str, Purged] = {}
    async with transaction(sessions) as session:
        for ref in refs:
            spec = next((s for s in SPECS if ref.startswith(f"{s.ref_prefix}-")), None)
            if spec is None or not spec.personal_fields:
                raise ValueError(f"{ref}: not the reference of an incident or a logbook entry")
            object_id = await session.scalar(select(spec.model.id).where(spec.model.ref == ref))
            if object_id is None:
                raise ValueError(f"{ref}: no such object")
            one = await _purge_one(session, spec, object_id, blank_values(spec))
            purged = done.setdefault(spec.entity.value, Purged(spec.entity.value))
            if one is not None:
                purged.refs.append(one[0])
                purged.records += one[1]
        for purged in done.values():
            await audit.record(
                session,
                audit.AuditKind.personal_data_purged,
                actor=actor,
                detail={
                    "entity": purged.entity,
                    "count": len(purged.refs),
                    "refs": purged.refs,
                    "fields": list(BY_ENTITY[Entity(purged.entity)].personal_fields),
                    "history_records": purged.records,
                    "ordered": True,
                },
            )
    return list(done.values())


class PersonalDataPurger:
    """Purges every `interval_seconds` (and at start), under the background loop's error
    policy; a round that filled a batch runs again at once."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        retention: dict[Entity, timedelta],
        *,
        interval_seconds: float,
        clock: Clock,
        batch: int = BATCH,
    ) -> None:
        self._sessions = sessions
        self._retention = retention
        self._clock = clock
        self._batch = batch
        self.loop = Loop("personal-data-purge", self._step, poll_seconds=interval_seconds)

    async def _step(self) -> float | None:
        done = await purge(self._sessions, self._retention, self._clock(), batch=self._batch)
        if done and any(len(p.refs) >= self._batch for p in done):
            return 0
        return None


def retention_of(
    incident_days: int | None, logbook_entry_days: int | None
) -> dict[Entity, timedelta]:
    """The settings' retentions, per collection; empty when none is set."""
    days = {Entity.incident: incident_days, Entity.logbook_entry: logbook_entry_days}
    return {e: timedelta(days=d) for e, d in days.items() if d is not None}
