"""Deconfliction in space and time: planned events, demonstrations and zones whose geometries and
windows overlap, found by one PostGIS join, and their recorded state (`conflict` objects).

What is a conflict (docs/replay-and-exercises.md says why):
- two objects among the live planned events (not ended nor cancelled), demonstrations (not
  ended, cancelled nor refused) and active zones (not lifted), hotspots excepted: they are
  standing areas of policing, not plans, and every event downtown would meet one;
- whose geometries share more than a boundary (interiors meet: a route crossing a perimeter, a
  point inside it, two areas overlapping; two perimeters side by side are not in conflict);
- whose windows overlap (half-open, `[start, end)`; a zone without a start or an end is open on
  that side);
- not an object and its own zone, nor two zones of the same event or demonstration (they are
  drawn together on purpose);
- both exercise objects, or both real: an exercise never conflicts with the real picture.

The join uses the GiST indexes on each table's geometry and on its window as a range
(`ix_<table>_window`, tstzrange(start, end)); nothing is compared pairwise in Python.

A pair's recorded state (`Conflict`, entity `conflict`, one row per unordered pair, written
through the one write path) is kept by the conflict watcher (app.planning.watch): opened when a
change makes the pair overlap, re-opened when the overlap (its area or interval) changes,
resolved when it no longer overlaps; acknowledged by the planning desk with a note
(`acknowledge`). The list (`find`) is always computed from the objects as they stand; a record
tells its status only while its overlap is the one listed (its `digest`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Annotated, Any

import orjson
import shapely
from pydantic import Field
from sqlalchemy import DateTime, Float, Index, Integer, String, Text, or_, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, driver
from app.domain import objects
from app.domain.actor import Actor
from app.domain.base import OperationalObject
from app.domain.enums import (
    ConflictStatus,
    Entity,
    EventStatus,
    Visibility,
    ZoneKind,
    ZoneStatus,
)
from app.domain.schema import CommonProps, Props, Time
from app.domain.spec import EntitySpec
from app.domain.visibility import Scope
from app.errors import not_found
from app.geo.validation import ParsedGeometry

# The kinds deconfliction compares, with what makes each one live and its window columns.
ENTITIES = (Entity.planned_event, Entity.demonstration, Entity.zone)
# The `kinds` filter takes event and zone kinds and this word for demonstrations.
DEMONSTRATION_KIND = "demonstration"


class Conflict(OperationalObject, Base):
    __tablename__ = "conflicts"
    # One record per unordered pair: `a_id` is the smaller id.
    unique_by = (("pair", ("a_id", "b_id")),)

    a_entity: Mapped[str] = mapped_column(String(32))
    a_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    a_version: Mapped[int] = mapped_column(Integer)
    b_entity: Mapped[str] = mapped_column(String(32))
    b_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    b_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    overlap_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overlap_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    area_m2: Mapped[float] = mapped_column(Float)
    length_m: Mapped[float] = mapped_column(Float)
    # What the overlap was when last recorded (intersection and interval): a record whose
    # digest is not the current one speaks of an overlap that has since changed.
    digest: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))


# An object's records are looked up by either side: `a_id` leads the pair's unique index.
Index("ix_conflicts_b_id", Conflict.b_id)

Note = Annotated[str, Field(min_length=1, max_length=2000)]


class ConflictState(CommonProps):
    """A record's whole state, as the watcher and the acknowledgement write it (no client
    creates a record: they are found)."""

    a_entity: Entity
    a_id: uuid.UUID
    a_version: int
    b_entity: Entity
    b_id: uuid.UUID
    b_version: int
    status: ConflictStatus
    overlap_from: Time | None = None
    overlap_to: Time | None = None
    area_m2: float = 0.0
    length_m: float = 0.0
    digest: str
    note: Note | None = None
    acknowledged_at: Time | None = None
    acknowledged_by: str | None = None


class ConflictPatch(Props):
    """What PATCH may change on a record: its note."""

    note: Note | None = None


FIELDS = (
    "a_entity",
    "a_id",
    "a_version",
    "b_entity",
    "b_id",
    "b_version",
    "status",
    "overlap_from",
    "overlap_to",
    "area_m2",
    "length_m",
    "digest",
    "note",
    "acknowledged_at",
    "acknowledged_by",
)


# ---- the join -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    alias: str
    table: str
    entity: Entity
    kind: str  # SQL of the object's kind
    start: str
    end: str
    parent: str  # SQL of the event or demonstration it belongs to
    live: str  # SQL: the object takes part in deconfliction


_SOURCES = (
    _Source(
        "ev",
        "planned_events",
        Entity.planned_event,
        "kind",
        "starts_at",
        "ends_at",
        "NULL::uuid",
        f"status NOT IN ('{EventStatus.ended}', '{EventStatus.cancelled}')",
    ),
    _Source(
        "dm",
        "demonstrations",
        Entity.demonstration,
        f"'{DEMONSTRATION_KIND}'::varchar",
        "starts_at",
        "ends_at",
        "NULL::uuid",
        f"status NOT IN ('{EventStatus.ended}', '{EventStatus.cancelled}')"
        " AND authorisation <> 'refused'",
    ),
    _Source(
        "zo",
        "zones",
        Entity.zone,
        "kind",
        "valid_from",
        "valid_to",
        "parent_id",
        f"status = '{ZoneStatus.active}' AND kind <> '{ZoneKind.hotspot}'",
    ),
)
_PAIRS = [(a, b) for i, a in enumerate(_SOURCES) for b in _SOURCES[i:]]


@dataclass
class ConflictFilter:
    start: datetime | None = None
    end: datetime | None = None
    kinds: list[str] | None = None
    municipality: list[str] | None = None
    police_zone: list[str] | None = None
    # Exercise objects, or real ones (the default); None: both, each with its own kind.
    exercise: bool | None = False


@dataclass
class _Sql:
    """SQL text with its asyncpg parameters, numbered as they are added."""

    params: list[Any] = field(default_factory=list)

    def __call__(self, value: Any, cast: str) -> str:
        self.params.append(value)
        return f"${len(self.params)}::{cast}"


def _source_sql(s: _Source, f: ConflictFilter, scope: tuple[bool, str | None], p: _Sql) -> str:
    span = f"tstzrange({s.start}, {s.end})"  # the expression of ix_<table>_window
    where = [s.live, "geom IS NOT NULL"]
    if f.exercise is not None:
        where.append(f"exercise = {p(f.exercise, 'boolean')}")
    if f.start is not None or f.end is not None:
        where.append(f"{span} && tstzrange({p(f.start, 'timestamptz')}, {p(f.end, 'timestamptz')})")
    partner, organisation = scope
    if partner:
        where.append(
            f"(visibility = 'shared' OR {p(organisation, 'text')} = ANY(shared_with))"
            if organisation
            else "visibility = 'shared'"
        )
    if f.municipality:
        where.append(f"municipality_codes && {p(f.municipality, 'varchar(8)[]')}")
    if f.police_zone:
        where.append(f"police_zone_codes && {p(f.police_zone, 'varchar(8)[]')}")
    return (
        f"{s.alias} AS NOT MATERIALIZED (SELECT '{s.entity.value}'::text AS entity, id, ref,"
        f" version, title, {s.kind} AS kind, visibility, shared_with, exercise, geom,"
        f" {span} AS span, {s.parent} AS parent_id"
        f" FROM {s.table} WHERE {' AND '.join(where)})"
    )


SIDE = (
    *("entity", "id", "ref", "version", "title", "kind"),
    *("visibility", "shared_with", "exercise"),
)


def _side(x: str) -> str:
    return ", ".join(f"{x}.{c} AS {x}_{c}" for c in SIDE)


def _branch(a: _Source, b: _Source, pin: str | None, f: ConflictFilter, p: _Sql) -> str:
    on = ["ST_Intersects(a.geom, b.geom)", "a.span && b.span"]
    if a is b:
        on.append("a.id < b.id")
    where = ["NOT ST_Touches(a.geom, b.geom)", "a.exercise = b.exercise"]
    if b.entity == Entity.zone:
        where.append("b.parent_id IS DISTINCT FROM a.id")
        if a.entity == Entity.zone:
            where.append("(a.parent_id IS NULL OR a.parent_id IS DISTINCT FROM b.parent_id)")
    if f.kinds:
        kinds = p(f.kinds, "text[]")
        where.append(f"(a.kind = ANY({kinds}) OR b.kind = ANY({kinds}))")
    if pin is not None:
        where.append(f"{pin}.id = $1::uuid")
    return (
        f"SELECT {_side('a')}, {_side('b')}, a.span * b.span AS span,"
        " LEAST(a.id, b.id) AS lo, GREATEST(a.id, b.id) AS hi,"
        " ST_Intersection(a.geom, b.geom) AS inter"
        f" FROM {a.alias} a JOIN {b.alias} b ON {' AND '.join(on)}"
        f" WHERE {' AND '.join(where)}"
    )


_AREA_LAYER = {"municipality": "municipality", "police_zone": "police_zone"}


def conflicts_sql(
    f: ConflictFilter,
    scope: tuple[bool, str | None] = (False, None),
    *,
    pinned: uuid.UUID | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[str, list[Any]]:
    """The conflicts query and its parameters: every conflict the filter and the scope
    (partner?, organisation) let through, or with `pinned` those of one object; ordered by the
    overlap's start, then the pair. `limit` rows from `offset` (the caller asks one more to know
    whether more remain)."""
    p = _Sql()
    if pinned is not None:
        p(pinned, "uuid")  # $1, named by the pinned branches
    sources = ", ".join(_source_sql(s, f, scope, p) for s in _SOURCES)
    pins: tuple[str | None, ...] = ("a", "b") if pinned is not None else (None,)
    branches = " UNION ALL ".join(_branch(a, b, pin, f, p) for a, b in _PAIRS for pin in pins)
    areas = []
    for name, codes in (("municipality", f.municipality), ("police_zone", f.police_zone)):
        if codes:
            areas.append(
                "ST_Intersects(p.inter, (SELECT ST_Union(geom) FROM reference_area_parts"
                f" WHERE layer = '{_AREA_LAYER[name]}'"
                f" AND code = ANY({p(codes, 'varchar(16)[]')})))"
            )
    page = ""
    if limit is not None:
        page = f" LIMIT {p(limit, 'integer')} OFFSET {p(offset, 'integer')}"
    sql = f"""
        WITH {sources},
        pairs AS MATERIALIZED ({branches})
        SELECT {", ".join(f"p.{x}_{c}" for x in "ab" for c in SIDE)},
               lower(p.span) AS overlap_from, upper(p.span) AS overlap_to,
               ST_AsGeoJSON(p.inter, 7) AS geojson, ST_AsBinary(p.inter) AS wkb,
               ST_Area(ST_CollectionExtract(p.inter, 3)::geography) AS area_m2,
               ST_Length(ST_CollectionExtract(p.inter, 2)::geography) AS length_m,
               md5(ST_AsEWKB(p.inter) || convert_to(concat(
                   COALESCE(extract(epoch FROM lower(p.span))::text, '*'), '/',
                   COALESCE(extract(epoch FROM upper(p.span))::text, '*')), 'UTF8')) AS digest,
               r.id AS record_id, r.version AS record_version, r.status AS record_status,
               r.digest AS record_digest, r.note, r.acknowledged_at, r.acknowledged_by
        FROM pairs p LEFT JOIN conflicts r ON r.a_id = p.lo AND r.b_id = p.hi
        {"WHERE " + " AND ".join(areas) if areas else ""}
        ORDER BY lower(p.span) NULLS FIRST, p.lo, p.hi{page}
    """
    return sql, p.params


@dataclass(frozen=True)
class Side:
    entity: str
    id: uuid.UUID
    ref: str
    version: int
    title: str
    kind: str
    visibility: str
    shared_with: list[str]
    exercise: bool


@dataclass(frozen=True)
class Found:
    """One conflict as the join finds it; `a` is the object with the smaller id."""

    a: Side
    b: Side
    overlap_from: datetime | None
    overlap_to: datetime | None
    geojson: dict[str, Any]
    wkb: bytes
    area_m2: float
    length_m: float
    digest: str
    record_id: uuid.UUID | None
    record_version: int | None
    record_status: str | None
    record_digest: str | None
    note: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    @property
    def status(self) -> str:
        """Acknowledged while the acknowledged overlap is this one; else open."""
        if self.record_status == ConflictStatus.acknowledged and self.record_digest == self.digest:
            return ConflictStatus.acknowledged
        return ConflictStatus.open

    @classmethod
    def of(cls, r: Any) -> Found:
        x = Side(*(r[f"a_{c}"] for c in SIDE))
        y = Side(*(r[f"b_{c}"] for c in SIDE))
        a, b = (x, y) if x.id < y.id else (y, x)
        return cls(
            a,
            b,
            r["overlap_from"],
            r["overlap_to"],
            orjson.loads(r["geojson"]),
            bytes(r["wkb"]),
            float(r["area_m2"]),
            float(r["length_m"]),
            r["digest"],
            r["record_id"],
            r["record_version"],
            r["record_status"],
            r["record_digest"],
            r["note"],
            r["acknowledged_at"],
            r["acknowledged_by"],
        )

    def feature(self) -> dict[str, Any]:
        """The conflict as GeoJSON: the overlap's geometry, the two objects, interval, area."""
        acknowledged = self.status == ConflictStatus.acknowledged
        return {
            "type": "Feature",
            "id": f"{self.a.id}~{self.b.id}",
            "geometry": self.geojson,
            "properties": {
                "objects": [_side_json(self.a), _side_json(self.b)],
                "overlap_from": _iso(self.overlap_from),
                "overlap_to": _iso(self.overlap_to),
                "area_m2": round(self.area_m2, 1),
                "length_m": round(self.length_m, 1),
                "status": self.status,
                "record_id": str(self.record_id) if self.record_id else None,
                "acknowledgement": (
                    {
                        "note": self.note,
                        "by": self.acknowledged_by,
                        "at": _iso(self.acknowledged_at),
                    }
                    if acknowledged
                    else None
                ),
            },
        }


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _side_json(s: Side) -> dict[str, Any]:
    return {
        "entity": s.entity,
        "id": str(s.id),
        "ref": s.ref,
        "version": s.version,
        "title": s.title,
        "kind": s.kind,
    }


# ---- reading -------------------------------------------------------------------------------


async def find(
    session: AsyncSession,
    f: ConflictFilter,
    scope: Scope,
    limit: int,
    offset: int = 0,
) -> tuple[list[Found], bool]:
    """A page of the conflicts the caller may see: both objects visible to it (a partner
    learns of no conflict with an object it cannot see), and whether more remain."""
    sql, params = conflicts_sql(f, _scope(scope), limit=limit + 1, offset=offset)
    rows = await (await driver(session)).fetch(sql, *params)
    return [Found.of(r) for r in rows[:limit]], len(rows) > limit


async def of_object(
    session: AsyncSession, object_id: uuid.UUID, scope: Scope | None = None
) -> list[Found]:
    """The current conflicts of one object, whatever its exercise flag."""
    f = ConflictFilter(exercise=None)
    sql, params = conflicts_sql(f, _scope(scope or Scope()), pinned=object_id)
    rows = await (await driver(session)).fetch(sql, *params)
    return [Found.of(r) for r in rows]


def _scope(scope: Scope) -> tuple[bool, str | None]:
    return scope.partner, scope.organisation


# ---- recording -----------------------------------------------------------------------------


def pair(x: uuid.UUID, y: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    return (x, y) if x < y else (y, x)


async def _lock_pair(session: AsyncSession, lo: uuid.UUID, hi: uuid.UUID) -> None:
    # The watcher and an acknowledgement may write one pair's record at once: one at a time,
    # so the record is created once and each write starts from the other's.
    await (await driver(session)).execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"conflict:{lo}:{hi}"
    )


async def _record(session: AsyncSession, lo: uuid.UUID, hi: uuid.UUID) -> Conflict | None:
    return await session.scalar(
        select(Conflict)
        .where(Conflict.a_id == lo, Conflict.b_id == hi)
        .execution_options(populate_existing=True)
    )


def audience(a: Side, b: Side) -> tuple[str, list[str]]:
    """Who may see a conflict: the partners that see both objects, no one else."""
    shared = Visibility.shared.value
    if a.visibility == shared and b.visibility == shared:
        return shared, []
    if a.visibility == shared:
        return Visibility.internal.value, sorted(b.shared_with or [])
    if b.visibility == shared:
        return Visibility.internal.value, sorted(a.shared_with or [])
    return Visibility.internal.value, sorted(set(a.shared_with or []) & set(b.shared_with or []))


def _title(found: Found) -> str:
    title = f"{found.a.title} × {found.b.title}"
    return title if len(title) <= 200 else title[:199] + "…"


def _state(found: Found, status: ConflictStatus, **extra: Any) -> ConflictState:
    visibility, shared_with = audience(found.a, found.b)
    # A re-opened conflict's acknowledgement spoke of another overlap: it stays in its history.
    extra = {"note": None, "acknowledged_at": None, "acknowledged_by": None} | extra
    return ConflictState(
        title=_title(found),
        visibility=Visibility(visibility),
        shared_with=shared_with,
        exercise=found.a.exercise,
        a_entity=Entity(found.a.entity),
        a_id=found.a.id,
        a_version=found.a.version,
        b_entity=Entity(found.b.entity),
        b_id=found.b.id,
        b_version=found.b.version,
        status=status,
        overlap_from=found.overlap_from,
        overlap_to=found.overlap_to,
        area_m2=round(found.area_m2, 1),
        length_m=round(found.length_m, 1),
        digest=found.digest,
        **extra,
    )


async def _write(
    session: AsyncSession,
    record: Conflict | None,
    state: ConflictState,
    found: Found | None,
    actor: Actor,
) -> objects.Written:
    geometry = ParsedGeometry(shapely.from_wkb(found.wkb)) if found is not None else None
    if record is None:
        return await objects.create(session, SPEC, state, geometry, actor)
    return await objects.update(session, SPEC, record.id, state, geometry, record.version, actor)


async def acknowledge(
    session: AsyncSession,
    x: uuid.UUID,
    y: uuid.UUID,
    note: str,
    actor: Actor,
    scope: Scope,
    now: datetime,
) -> Found:
    """Record that the planning desk agreed the conflict between two objects as it stands now
    (its overlap: a later change that moves the overlap re-opens it); 404 if the two are not
    in conflict, or the caller may not see it."""
    lo, hi = pair(x, y)
    await _lock_pair(session, lo, hi)
    found = next((c for c in await of_object(session, lo, scope) if c.b.id == hi), None)
    if found is None or lo == hi:
        raise not_found("conflict", f"{lo}~{hi}")
    record = await _record(session, lo, hi)
    state = _state(
        found,
        ConflictStatus.acknowledged,
        note=note,
        acknowledged_at=now,
        acknowledged_by=actor.name,
    )
    written = await _write(session, record, state, found, actor)
    return replace(
        found,
        record_id=written.id,
        record_version=written.version,
        record_status=ConflictStatus.acknowledged,
        record_digest=found.digest,
        note=note,
        acknowledged_at=now,
        acknowledged_by=actor.name,
    )


def _unchanged(record: Conflict, found: Found) -> bool:
    visibility, shared_with = audience(found.a, found.b)
    return (
        record.status != ConflictStatus.resolved
        and record.digest == found.digest
        and record.title == _title(found)
        and (record.visibility, sorted(record.shared_with or [])) == (visibility, shared_with)
    )


async def reconcile(session: AsyncSession, object_id: uuid.UUID, actor: Actor) -> int:
    """Bring the records of one object's conflicts in line with the picture after it changed:
    open a new conflict, re-open one whose overlap moved, resolve one that is gone. Returns the
    number of records written."""
    written = 0
    current = {(c.a.id, c.b.id): c for c in await of_object(session, object_id)}
    recorded = set(
        (
            await session.execute(
                select(Conflict.a_id, Conflict.b_id).where(
                    or_(Conflict.a_id == object_id, Conflict.b_id == object_id),
                    Conflict.status != ConflictStatus.resolved,
                )
            )
        ).all()
    )
    for key in sorted(set(current) | {(a, b) for a, b in recorded}):
        await _lock_pair(session, *key)
        record = await _record(session, *key)
        found = current.get(key)
        if found is None:
            if record is None or record.status == ConflictStatus.resolved:
                continue
            state = ConflictState.model_validate(
                {name: getattr(record, name) for name in (*FIELDS, "title", "visibility")}
                | {"shared_with": record.shared_with or [], "status": ConflictStatus.resolved}
            )
            await _write(session, record, state, None, actor)
        elif record is None or not _unchanged(record, found):
            keep = record is not None and record.digest == found.digest
            status = ConflictStatus(record.status) if keep and record else ConflictStatus.open
            if status == ConflictStatus.resolved:
                status = ConflictStatus.open
            extra = {}
            if keep and record is not None and status == ConflictStatus.acknowledged:
                extra = {
                    "note": record.note,
                    "acknowledged_at": record.acknowledged_at,
                    "acknowledged_by": record.acknowledged_by,
                }
            await _write(session, record, _state(found, status, **extra), found, actor)
        else:
            continue
        written += 1
    return written


SPEC = EntitySpec(
    entity=Entity.conflict,
    model=Conflict,
    path="conflict_records",
    ref_prefix="CFL",
    create_schema=ConflictState,
    update_schema=ConflictPatch,
    fields=FIELDS,
    geometry_types=None,
    geometry_required=False,
    status_enum=ConflictStatus,
    closing=frozenset({ConflictStatus.resolved}),
    window=("overlap_from", "overlap_to"),
    text_fields=("note",),
    # Records are found (app.planning.watch) and acknowledged (POST /api/conflicts/acknowledge),
    # never created nor deleted by hand.
    own_routes=frozenset({"create", "delete"}),
)
