"""The one write path of operational objects: row, version and change record in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from geoalchemy2.shape import from_shape
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import driver
from app.domain import organisations
from app.domain.actor import Actor
from app.domain.base import OperationalObject, uuid7
from app.domain.changes import append_change, created_record
from app.domain.enums import ChangeOp, Entity
from app.domain.features import feature_of, to_feature
from app.domain.idempotency import claim_key, record_key_target
from app.domain.schema import Props
from app.domain.spec import EntitySpec
from app.errors import (
    ProblemError,
    not_found,
    stale_version,
    transition_not_allowed,
    validation_problem,
)
from app.geo.crs import WGS84, geojson_geometry
from app.geo.reference import AREAS_SQL, areas_for
from app.geo.validation import ParsedGeometry

# Common columns a client may set; the rest of the mixin is managed here.
CLIENT_COMMON = (
    "title",
    "description",
    "visibility",
    "shared_with",
    "exercise",
    "source",
    "external_id",
)


@dataclass
class Written:
    id: uuid.UUID
    version: int
    feature: dict[str, Any]
    created: bool = True
    notes: list[str] = field(default_factory=list)


def _field_problem(loc: str, msg: str) -> ProblemError:
    return validation_problem([{"loc": ["body", "properties", loc], "msg": msg}])


def _check_initial(spec: EntitySpec, values: dict[str, Any]) -> None:
    for name, allowed in spec.initial.items():
        if values.get(name) not in allowed:
            raise _field_problem(
                name, f"a new {spec.label} starts as one of {', '.join(sorted(allowed))}"
            )


def _check_transitions(spec: EntitySpec, row: OperationalObject, changed: dict[str, Any]) -> None:
    for name, table in spec.transitions.items():
        if name not in changed:
            continue
        old, new = getattr(row, name), changed[name]
        if old == new:
            continue
        allowed = sorted(table.get(old, frozenset()))
        if new not in allowed:
            raise transition_not_allowed(
                f"{spec.label} {row.ref}: {name} cannot go from {old} to {new}"
                + (f"; allowed: {', '.join(allowed)}" if allowed else f"; {old} is final"),
                field=name,
                current=old,
                allowed=allowed,
            )


async def _check_links(session: AsyncSession, spec: EntitySpec, values: dict[str, Any]) -> None:
    from app.domain.registry import BY_ENTITY

    for id_field, entity_field in spec.links.items():
        target_id, target_entity = values.get(id_field), values.get(entity_field)
        if target_id is None or target_entity is None:
            continue
        target = BY_ENTITY[Entity(target_entity)]
        if await session.get(target.model, target_id) is None:
            raise _field_problem(id_field, f"no {target.label} with id {target_id}")


async def _prepare(
    session: AsyncSession,
    spec: EntitySpec,
    values: dict[str, Any],
    changed: dict[str, Any],
    geometry: ParsedGeometry | None,
) -> None:
    """Derive, check and link-check the merged state; raise 422 naming the field on a problem."""
    if spec.derive:
        spec.derive(values, changed)
    if values.get("external_id") and not values.get("source"):
        raise _field_problem("external_id", "an external_id needs a source")
    if spec.check:
        probe = dict(values)
        if geometry is not None:
            probe["_geometry_type"] = geometry.geometry.geom_type
        problems = spec.check(probe)
        if problems:
            raise validation_problem(
                [{"loc": ["body", "properties", f], "msg": m} for f, m in problems]
            )
    await _check_links(session, spec, values)
    await organisations.require_known(
        session, values.get("shared_with") or [], ["body", "properties", "shared_with"]
    )


def _columns(spec: EntitySpec) -> tuple[str, ...]:
    return CLIENT_COMMON + spec.fields


async def _by_external_id(
    session: AsyncSession, spec: EntitySpec, source: str, ext: str
) -> OperationalObject:
    m = spec.model
    found = await session.scalar(select(m).where(m.source == source, m.external_id == ext))
    assert found is not None  # the conflicting row is committed once ON CONFLICT reports it
    return found


async def create(
    session: AsyncSession,
    spec: EntitySpec,
    props: Props,
    geometry: ParsedGeometry | None,
    actor: Actor,
    *,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
) -> Written:
    """Create an object, or return the first one for a repeated (source, external_id) or key."""
    values = props.model_dump()
    if not values.get("source") and actor.default_source:
        values["source"] = actor.default_source
    _check_initial(spec, values)
    if geometry is None and spec.geometry_required:
        raise validation_problem(
            [{"loc": ["body", "geometry"], "msg": f"a {spec.label} needs a geometry"}]
        )

    if idempotency_key is not None:
        earlier = await claim_key(
            session, actor.name, idempotency_key, spec.entity, fingerprint or ""
        )
        if earlier is not None:
            row = await session.get(spec.model, earlier)
            if row is not None:
                return Written(row.id, row.version, to_feature(spec, row), created=False)

    await _prepare(session, spec, values, values, geometry)
    now, new_id = datetime.now(UTC), uuid7()
    row_values: dict[str, Any] = {name: values.get(name) for name in _columns(spec)}
    row_values.update(
        id=new_id,
        version=1,
        created_at=now,
        created_by=actor.name,
        updated_at=now,
        updated_by=actor.name,
    )
    # The Feature as written, but for what the statement itself derives (the reference from
    # the sequence, the areas); they are filled in below and, in the change record, by SQL.
    geojson = geometry.geojson if geometry else None
    feature = feature_of(spec, new_id, row_values.get, None, geojson)
    insert = _insert_statement(spec)
    # begin=False: when nothing else needed the database (no link to check, no idempotency
    # key), the statement is the whole write and commits by itself: no BEGIN, no COMMIT.
    inserted = await (await driver(session, begin=False)).fetchrow(
        insert.sql,
        *(row_values[c] for c in insert.columns),
        geometry.wkb if geometry else None,
        spec.entity.value,
        actor.name,
        orjson.dumps(feature).decode(),
    )
    if inserted is None:
        row = await _by_external_id(session, spec, values["source"], values["external_id"])
        if idempotency_key is not None:
            await record_key_target(session, actor.name, idempotency_key, row.id)
        return Written(row.id, row.version, to_feature(spec, row), created=False)
    if idempotency_key is not None:
        await record_key_target(session, actor.name, idempotency_key, new_id)
    written = feature["properties"]
    written["ref"] = inserted["ref"]
    written.update(orjson.loads(inserted["areas"]))  # keys already in place: order kept
    return Written(new_id, 1, feature, notes=geometry.notes if geometry else [])


@dataclass(frozen=True)
class _Insert:
    sql: str
    columns: tuple[str, ...]  # the values to pass, in parameter order; then the WKB


_INSERTS: dict[str, _Insert] = {}


def _insert_statement(spec: EntitySpec) -> _Insert:
    """The whole create in one statement, written once per table: it derives the areas
    (AREAS_SQL), takes the human reference (INC-2026-000042) from the table's sequence, stores
    the row and its change record (the Feature given, completed with those two). One round
    trip, and on its own no transaction to begin or commit: four round trips before, each a
    few percent of a create's CPU. A retried create with the same (source, external_id) waits
    for the first and then finds it: no row, and no change record."""
    name = spec.entity.value
    if name not in _INSERTS:
        table = spec.model.__table__.name  # type: ignore[attr-defined]
        given = (*_columns(spec), "id", "version", "created_at", "created_by")
        given += ("updated_at", "updated_by")
        ref = (
            f"'{spec.ref_prefix}-' || to_char(now() AT TIME ZONE 'Europe/Brussels', 'YYYY') "
            f"|| '-' || lpad(nextval('{name}_ref_seq')::text, 6, '0')"
        )
        params = ", ".join(f"${i}" for i in range(1, len(given) + 1))
        n = len(given)
        record = created_record(
            entity=f"${n + 2}",
            actor=f"${n + 3}",
            feature="f",
            derived="jsonb_build_object('ref', written.ref) || areas.areas",
            rows="written, areas, feature",
        )
        sql = f"""
            WITH g AS (SELECT ST_GeomFromWKB(${n + 1}::bytea, 4326) AS geom), {AREAS_SQL},
            written AS (
                INSERT INTO {table} ({", ".join(given)},
                                     geom, ref, areas, municipality_codes, police_zone_codes)
                VALUES ({params}, (SELECT geom FROM g), {ref}, (SELECT areas FROM areas),
                        (SELECT municipality_codes FROM areas),
                        (SELECT police_zone_codes FROM areas))
                ON CONFLICT (source, external_id) WHERE external_id IS NOT NULL DO NOTHING
                RETURNING id, ref),
            feature AS (SELECT ${n + 4}::text::jsonb AS f),
            {record}
            SELECT written.ref, areas.areas::text AS areas FROM written, areas
            """
        _INSERTS[name] = _Insert(sql, given)
    return _INSERTS[name]


def _area_columns(areas: dict[str, Any]) -> dict[str, Any]:
    return {
        "areas": areas,
        "municipality_codes": [a["code"] for a in areas["municipalities"]],
        "police_zone_codes": [a["code"] for a in areas["police_zones"]],
    }


def stale(spec: EntitySpec, row: OperationalObject, expected: int) -> ProblemError:
    return stale_version(
        f"{spec.label} {row.ref} is at version {row.version}, not {expected}: "
        "someone changed it first; review the current state and retry with its version",
        current=to_feature(spec, row),
        version=row.version,
    )


async def update(
    session: AsyncSession,
    spec: EntitySpec,
    object_id: uuid.UUID,
    patch: Props,
    geometry: ParsedGeometry | None,
    expected_version: int,
    actor: Actor,
    scope: ColumnElement[bool] | None = None,
) -> Written:
    """Apply a partial change if the client saw the current version (optimistic locking)."""
    row = await get(session, spec, object_id, scope, for_update=True)
    if row.version != expected_version:
        raise stale(spec, row, expected_version)
    changed = {
        k: v for k, v in patch.model_dump(exclude_unset=True).items() if getattr(row, k) != v
    }
    new_geom = None
    if geometry is not None:
        new_geom = from_shape(geometry.geometry, srid=4326)
        old = (
            await session.scalar(
                select(func.ST_Equals(spec.model.geom, new_geom)).where(spec.model.id == row.id)
            )
            if row.geom is not None
            else False
        )
        if old:
            new_geom = None
    if not changed and new_geom is None:
        return Written(row.id, row.version, to_feature(spec, row), created=False)
    _check_transitions(spec, row, changed)
    values = {name: getattr(row, name) for name in _columns(spec)}
    values.update(changed)
    await _prepare(session, spec, values, changed, geometry)
    for name in _columns(spec):
        if values[name] != getattr(row, name):
            setattr(row, name, values[name])
    if new_geom is not None:
        row.geom = new_geom
        assert geometry is not None
        for key, value in _area_columns(await areas_for(session, geometry.geometry)).items():
            setattr(row, key, value)
    row.version += 1
    row.updated_at = datetime.now(UTC)
    row.updated_by = actor.name
    await session.flush()
    feature = to_feature(spec, row)
    await append_change(
        session,
        entity=spec.entity,
        entity_id=row.id,
        op=ChangeOp.updated,
        version=row.version,
        actor=actor.name,
        feature=feature,
    )
    notes = geometry.notes if geometry else []
    return Written(row.id, row.version, feature, created=False, notes=notes)


async def remove(
    session: AsyncSession,
    spec: EntitySpec,
    object_id: uuid.UUID,
    expected_version: int | None,
    actor: Actor,
) -> None:
    """Delete a wrongly created object; its last state stays in the change feed."""
    row = await get(session, spec, object_id, None, for_update=True)
    if expected_version is not None and row.version != expected_version:
        raise stale(spec, row, expected_version)
    feature = to_feature(spec, row)
    feature["properties"]["deleted_by"] = actor.name
    await session.execute(delete(spec.model).where(spec.model.id == row.id))
    await append_change(
        session,
        entity=spec.entity,
        entity_id=row.id,
        op=ChangeOp.deleted,
        version=row.version + 1,
        actor=actor.name,
        feature=feature,
    )


async def get(
    session: AsyncSession,
    spec: EntitySpec,
    object_id: uuid.UUID,
    scope: ColumnElement[bool] | None,
    *,
    for_update: bool = False,
) -> OperationalObject:
    """One object the scope lets the caller see, or 404 (hidden and unknown alike); locked
    for the rest of the transaction when it is about to be written."""
    query = select(spec.model).where(spec.model.id == object_id)
    if scope is not None:
        query = query.where(scope)
    if for_update:
        query = query.with_for_update()
    row = await session.scalar(query)
    if row is None:
        raise not_found(spec.label, object_id)
    return row


@dataclass
class ListFilter:
    bbox: tuple[float, float, float, float] | None = None
    start: datetime | None = None
    end: datetime | None = None
    status: list[str] | None = None
    kind: list[str] | None = None
    municipality: list[str] | None = None
    police_zone: list[str] | None = None
    q: str | None = None
    exercise: bool | None = None
    subject: uuid.UUID | None = None


def like_pattern(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def filtered(spec: EntitySpec, f: ListFilter, scope: ColumnElement[bool] | None) -> Select[Any]:
    m = spec.model
    query: Select[Any] = select(m)
    clauses: list[ColumnElement[bool]] = []
    if scope is not None:
        clauses.append(scope)
    if f.bbox is not None:
        # ST_Intersects alone: PostGIS adds the index condition (&&) itself. Written twice,
        # the planner multiplies the two selectivities, believes a large box holds a few
        # rows, and sorts all of them instead of walking the newest ids (40 ms against 1).
        clauses.append(func.ST_Intersects(m.geom, func.ST_MakeEnvelope(*f.bbox, 4326)))
    if spec.window and (f.start or f.end):
        start_col = getattr(m, spec.window[0])
        end_col = getattr(m, spec.window[1]) if spec.window[1] else start_col
        if f.end is not None:
            clauses.append(or_(start_col.is_(None), start_col <= f.end))
        if f.start is not None:
            clauses.append(or_(end_col.is_(None), end_col >= f.start))
    if f.status and spec.status_field:
        clauses.append(getattr(m, spec.status_field).in_(f.status))
    if f.kind and spec.kind_field:
        clauses.append(getattr(m, spec.kind_field).in_(f.kind))
    if f.municipality:
        clauses.append(m.municipality_codes.overlap(f.municipality))
    if f.police_zone:
        clauses.append(m.police_zone_codes.overlap(f.police_zone))
    if f.exercise is not None:
        clauses.append(m.exercise.is_(f.exercise))
    if f.subject is not None and "subject_id" in spec.fields:
        clauses.append(m.subject_id == f.subject)  # type: ignore[attr-defined]
    if f.subject is not None and "parent_id" in spec.fields:
        clauses.append(m.parent_id == f.subject)  # type: ignore[attr-defined]
    if f.q:
        pattern = like_pattern(f.q)
        cols = [m.title, m.description, m.ref, *(getattr(m, c) for c in spec.text_fields)]
        clauses.append(or_(*(c.ilike(pattern, escape="\\") for c in cols)))
    return query.where(and_(*clauses)) if clauses else query


_CUSTOM_PLAN = text("SET LOCAL plan_cache_mode = force_custom_plan")


async def page(
    session: AsyncSession,
    spec: EntitySpec,
    f: ListFilter,
    scope: ColumnElement[bool] | None,
    limit: int,
    after: uuid.UUID | None,
    crs: str = WGS84,
) -> tuple[list[dict[str, Any]], bool]:
    """Newest first, keyset on the time-ordered id; the page's Features and whether more remain.

    Lists feed the dashboard's snapshot, thousands of objects at a time: the Features are
    built from plain columns with the geometry as PostGIS writes it, with no ORM objects and
    no WKB to parse."""
    m = spec.model
    columns = [c for c in m.__table__.columns if c.key != "geom"]  # type: ignore[attr-defined]
    query = filtered(spec, f, scope).with_only_columns(
        *columns, func.ST_AsGeoJSON(m.geom, 15, 0).label("geojson")
    )
    if after is not None:
        query = query.where(m.id < after)
    if f.bbox is not None:
        # The box decides the plan (walk the newest ids, or the spatial index then sort);
        # the generic plan of a prepared statement would pick one for every box.
        await session.execute(_CUSTOM_PLAN)
    rows = (await session.execute(query.order_by(m.id.desc()).limit(limit + 1))).all()
    features = [
        feature_of(spec, r.id, r._mapping.__getitem__, r.areas, geojson_geometry(r.geojson, crs))
        for r in rows[:limit]
    ]
    return features, len(rows) > limit
