"""The one write path of operational objects: row, version and change record in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
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
    false,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import driver
from app.domain import organisations
from app.domain.actor import Actor
from app.domain.base import OperationalObject, uuid7
from app.domain.changes import append_change, created_record
from app.domain.enums import ChangeOp
from app.domain.features import COMMON_AFTER, COMMON_BEFORE, feature_of, to_feature
from app.domain.idempotency import claim_key, record_key_target
from app.domain.schema import Props
from app.domain.spec import EntitySpec
from app.errors import (
    ProblemError,
    conflict,
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


def _refuse(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise validation_problem(
            [{"loc": ["body", "properties", f], "msg": m} for f, m in problems]
        )


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


async def _check_links(
    session: AsyncSession, spec: EntitySpec, values: dict[str, Any], changed: dict[str, Any]
) -> dict[str, OperationalObject]:
    """The objects the links point to, by id field; 422 naming the field when one is missing or
    names a kind there is not. A later kind is linkable as soon as the registry lists it."""
    from app.domain.registry import BY_ENTITY

    targets: list[tuple[str, Any, Any, str | None]] = [
        (f, values.get(f), values.get(e), e) for f, e in spec.links.items()
    ]
    targets += [(f, values.get(f), e.value, None) for f, e in spec.fixed_links.items()]
    found: dict[str, OperationalObject] = {}
    for id_field, target_id, target_entity, entity_field in targets:
        if target_id is None or target_entity is None:
            continue
        target = BY_ENTITY.get(target_entity)  # Entity is a StrEnum: its names find it
        if target is None:
            raise _field_problem(entity_field or id_field, f"no kind of object {target_entity}")
        row = await session.get(target.model, target_id)
        if row is None:
            raise _field_problem(id_field, f"no {target.label} with id {target_id}")
        found[id_field] = row
    for ids_field, entity in spec.many_links.items():
        # Checked when named: a zone removed since does not block every other change.
        if ids_field not in changed or not values.get(ids_field):
            continue
        wanted = values[ids_field]
        target = BY_ENTITY[entity]
        existing = set(
            (
                await session.scalars(select(target.model.id).where(target.model.id.in_(wanted)))
            ).all()
        )
        missing = [i for i in wanted if i not in existing]
        if missing:
            raise _field_problem(ids_field, f"no {target.label} with id {missing[0]}")
    return found


async def check_early(session: AsyncSession, spec: EntitySpec, values: dict[str, Any]) -> None:
    """The kind's check and its links, on the values known so far: 422 naming the field, for a
    caller with costly work to do before the write (a document's upload) that should not start
    in vain. The write checks the whole again."""
    if spec.check:
        _refuse(spec.check(values))
    await _check_links(session, spec, values, values)


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
        _refuse(spec.check(probe))
    targets = await _check_links(session, spec, values, changed)
    if spec.derive_from_links:
        spec.derive_from_links(values, targets)
    if spec.verify:
        _refuse(await spec.verify(session, values, changed))
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


@dataclass
class _Staged:
    """A create checked and ready for its one statement."""

    id: uuid.UUID
    values: dict[str, Any]
    row_values: dict[str, Any]
    feature: dict[str, Any]
    args: tuple[Any, ...]
    notes: list[str]
    wkb: bytes | None


async def _stage(
    session: AsyncSession,
    spec: EntitySpec,
    values: dict[str, Any],
    geometry: ParsedGeometry | None,
    actor: Actor,
) -> _Staged:
    """Derive and check a create (422 naming the field on a problem), and build the arguments
    of its statement."""
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
    if spec.before_insert is not None:
        await spec.before_insert(session, row_values, actor)
    # The Feature as written, but for what the statement itself derives (the reference from
    # the sequence, the areas); they are filled in below and, in the change record, by SQL.
    geojson = geometry.geojson if geometry else None
    feature = feature_of(spec, new_id, row_values.get, None, geojson)
    insert = _insert_statement(spec)
    args = (
        *(
            orjson.dumps(row_values[c]).decode() if c in insert.json else row_values[c]
            for c in insert.columns
        ),
        geometry.wkb if geometry else None,
        spec.entity.value,
        actor.name,
        orjson.dumps(feature).decode(),
    )
    notes = geometry.notes if geometry else []
    return _Staged(
        new_id, values, row_values, feature, args, notes, geometry.wkb if geometry else None
    )


def _initial_values(
    spec: EntitySpec, props: Props, geometry: ParsedGeometry | None, actor: Actor
) -> dict[str, Any]:
    values = props.model_dump()
    if not values.get("source") and actor.default_source:
        values["source"] = actor.default_source
    _check_initial(spec, values)
    if geometry is None and spec.geometry_required:
        raise validation_problem(
            [{"loc": ["body", "geometry"], "msg": f"a {spec.label} needs a geometry"}]
        )
    return values


def _completed(staged: _Staged, inserted: Any) -> Written:
    written = staged.feature["properties"]
    written["ref"] = inserted["ref"]
    written.update(orjson.loads(inserted["areas"]))  # keys already in place: order kept
    return Written(staged.id, 1, staged.feature, notes=staged.notes)


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
    values = _initial_values(spec, props, geometry, actor)
    if idempotency_key is not None:
        earlier = await claim_key(
            session, actor.name, idempotency_key, spec.entity, fingerprint or ""
        )
        if earlier is not None:
            row = await session.get(spec.model, earlier)
            if row is not None:
                return Written(row.id, row.version, to_feature(spec, row), created=False)

    staged = await _stage(session, spec, values, geometry, actor)
    # begin=False: when nothing else needed the database (no link to check, no idempotency
    # key), the statement is the whole write and commits by itself: no BEGIN, no COMMIT. A
    # kind with work after the insert needs the transaction it promises that work.
    begin = spec.after_insert is not None
    connection = await driver(session, begin=begin)
    inserted = await connection.fetchrow(_insert_statement(spec).sql, *staged.args)
    if inserted is None:
        row = await _by_external_id(session, spec, values["source"], values["external_id"])
        if idempotency_key is not None:
            await record_key_target(session, actor.name, idempotency_key, row.id)
        return Written(row.id, row.version, to_feature(spec, row), created=False)
    if spec.after_insert is not None:
        await spec.after_insert(session, staged.row_values)
    if idempotency_key is not None:
        await record_key_target(session, actor.name, idempotency_key, staged.id)
    return _completed(staged, inserted)


def batched(spec: EntitySpec) -> bool:
    """Whether `create_many` takes this kind: nothing to do per object around its insert (a
    hook may write, and a refused object's writes must not stay in the batch's transaction)."""
    return spec.before_insert is None and spec.after_insert is None


async def create_many(
    session: AsyncSession,
    spec: EntitySpec,
    items: list[tuple[Props, ParsedGeometry | None]],
    actor: Actor,
) -> list[Written | ProblemError]:
    """Create several objects in the session's transaction (the caller commits): each checked
    as `create` checks it (a refused one answers its problem and is not written), then every
    row and its change record by one statement (`_insert_many_statement`: what `create`'s
    statement does for one row, done for all of them at once). A repeated (source,
    external_id), also within the batch, answers the first object. Only for kinds `batched`
    says; no idempotency keys (see `create`)."""
    assert batched(spec)
    results: list[Written | ProblemError | None] = [None] * len(items)
    staged: list[tuple[int, _Staged]] = []
    for index, (props, geometry) in enumerate(items):
        try:
            values = _initial_values(spec, props, geometry, actor)
            staged.append((index, await _stage(session, spec, values, geometry, actor)))
        except ProblemError as problem:
            results[index] = problem
    if staged:
        connection = await driver(session)
        batch = [
            {"row": item.row_values, "wkb": item.wkb.hex() if item.wkb else None, "f": item.feature}
            for _, item in staged
        ]
        rows = await connection.fetch(
            _insert_many_statement(spec),
            orjson.dumps(batch).decode(),
            spec.entity.value,
            actor.name,
        )
        inserted = {row["id"]: row for row in rows}
        for index, item in staged:
            row = inserted.get(item.id)
            if row is not None:
                results[index] = _completed(item, row)
                continue
            first = await _by_external_id(
                session, spec, item.values["source"], item.values["external_id"]
            )
            results[index] = Written(first.id, first.version, to_feature(spec, first), False)
    return [r for r in results if r is not None]


@dataclass(frozen=True)
class _Insert:
    sql: str
    columns: tuple[str, ...]  # the values to pass, in parameter order; then the WKB
    json: frozenset[str]  # of them, the JSONB columns: passed as JSON text


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
        ref = _ref_sql(spec)
        table_columns = spec.model.__table__.columns  # type: ignore[attr-defined]
        json = frozenset(c for c in given if isinstance(table_columns[c].type, JSONB))
        params = ", ".join(
            f"${i}::text::jsonb" if c in json else f"${i}" for i, c in enumerate(given, 1)
        )
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
            SELECT written.id, written.ref, areas.areas::text AS areas FROM written, areas
            """
        _INSERTS[name] = _Insert(sql, given, json)
    return _INSERTS[name]


def _ref_sql(spec: EntitySpec) -> str:
    """The human reference of a new row (INC-2026-000042), from the table's sequence."""
    return (
        f"'{spec.ref_prefix}-' || to_char(now() AT TIME ZONE 'Europe/Brussels', 'YYYY') "
        f"|| '-' || lpad(nextval('{spec.entity.value}_ref_seq')::text, 6, '0')"
    )


_INSERTS_MANY: dict[str, str] = {}


def _insert_many_statement(spec: EntitySpec) -> str:
    """`_insert_statement` for many rows in one statement: $1 a JSON array of
    `{"row": the row's values, "wkb": its geometry as hex WKB, "f": the Feature as written}`,
    $2 the entity, $3 the actor. The values become the table's row type
    (`jsonb_populate_record`: the columns' own types), the areas are derived row by row
    (AREAS_SQL, laterally), the rows and their change records are written in the order given,
    and a row whose (source, external_id) is already stored, or repeated earlier in the array,
    is not written. One statement rather than one per row: a third of PostgreSQL's work per
    row, the executor set up once."""
    name = spec.entity.value
    if name not in _INSERTS_MANY:
        table = spec.model.__table__.name  # type: ignore[attr-defined]
        insert = _insert_statement(spec)
        given = ", ".join(insert.columns)
        # As `create` passes them: a None of a JSONB column is JSON null, not SQL NULL.
        values = ", ".join(
            f"COALESCE(given.{c}, 'null'::jsonb)" if c in insert.json else f"given.{c}"
            for c in insert.columns
        )
        record = created_record(
            entity="$2",
            actor="$3",
            feature="given.f",
            derived="jsonb_build_object('ref', written.ref) || written.areas",
            rows="written JOIN given USING (id)",
            order="given.ord",
        )
        _INSERTS_MANY[name] = f"""
            WITH given AS (
                SELECT e.ord, r.*, ST_GeomFromWKB(decode(e.v ->> 'wkb', 'hex'), 4326) AS g,
                       e.v -> 'f' AS f
                FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY e(v, ord),
                     LATERAL jsonb_populate_record(NULL::{table}, e.v -> 'row') r),
            derived AS (
                SELECT given.ord, a.areas, a.municipality_codes, a.police_zone_codes
                FROM given LEFT JOIN LATERAL (
                    WITH g AS (SELECT given.g AS geom), {AREAS_SQL}
                    SELECT * FROM areas) a ON true),
            written AS (
                INSERT INTO {table} ({given},
                                     geom, ref, areas, municipality_codes, police_zone_codes)
                SELECT {values},
                       given.g, {_ref_sql(spec)}, derived.areas, derived.municipality_codes,
                       derived.police_zone_codes
                FROM given JOIN derived USING (ord)
                ORDER BY given.ord
                ON CONFLICT (source, external_id) WHERE external_id IS NOT NULL DO NOTHING
                RETURNING id, ref, areas),
            {record}
            SELECT written.id, written.ref, written.areas::text AS areas FROM written
            """
    return _INSERTS_MANY[name]


def _area_columns(areas: dict[str, Any]) -> dict[str, Any]:
    return {
        "areas": areas,
        "municipality_codes": [a["code"] for a in areas["municipalities"]],
        "police_zone_codes": [a["code"] for a in areas["police_zones"]],
    }


def _refuse_append_only(spec: EntitySpec) -> None:
    # The routers build no PATCH or DELETE for these kinds; this keeps every other caller
    # (a CLI, a worker) from rewriting them too.
    if spec.append_only:
        raise conflict(
            f"a {spec.label} is never changed nor deleted: record a new one that corrects it"
        )


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
    _refuse_append_only(spec)
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
    if new_geom is not None:
        row.geom = new_geom
        assert geometry is not None
        for key, value in _area_columns(await areas_for(session, geometry.geometry)).items():
            setattr(row, key, value)
    feature = await _store(session, spec, row, values, actor)
    notes = geometry.notes if geometry else []
    return Written(row.id, row.version, feature, created=False, notes=notes)


async def redact(
    session: AsyncSession,
    spec: EntitySpec,
    object_id: uuid.UUID,
    blank: dict[str, Any],
    actor: Actor,
) -> Written | None:
    """Blank an object's personal fields (app.privacy.purge): its next version and change
    record, like any write. The one write an append-only object takes: its facts stay as they
    were written, only what may identify a person goes. No check of transitions nor links:
    nothing but the blanked fields changes. None: they were blank already (another instance
    purged it first)."""
    assert set(blank) <= set(spec.personal_fields), set(blank) - set(spec.personal_fields)
    row = await get(session, spec, object_id, None, for_update=True)
    values = {name: getattr(row, name) for name in _columns(spec)}
    if all(values[name] == value for name, value in blank.items()):
        return None
    values.update(blank)
    feature = await _store(session, spec, row, values, actor)
    return Written(row.id, row.version, feature, created=False)


async def _store(
    session: AsyncSession,
    spec: EntitySpec,
    row: OperationalObject,
    values: dict[str, Any],
    actor: Actor,
) -> dict[str, Any]:
    """Write the merged values as the row's next version and its change record; then bring the
    objects that follow this one's visibility along (a document its subject's)."""
    audience = (row.visibility, list(row.shared_with or []))
    for name in _columns(spec):
        if values[name] != getattr(row, name):
            setattr(row, name, values[name])
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
    if (row.visibility, list(row.shared_with or [])) != audience:
        await _follow(session, spec, row, actor)
    return feature


def _followers(spec: EntitySpec, row: OperationalObject) -> list[tuple[EntitySpec, Select[Any]]]:
    """The kinds whose values come from an object's (EntitySpec.derive_from_links), each with
    the query of those of its objects linked to this one."""
    from app.domain.registry import SPECS

    found = []
    for follower in SPECS:
        if follower.derive_from_links is None:
            continue
        m = follower.model
        clauses = [
            and_(getattr(m, f) == row.id, getattr(m, e) == spec.entity.value)
            for f, e in follower.links.items()
        ]
        clauses += [
            getattr(m, f) == row.id for f, e in follower.fixed_links.items() if e == spec.entity
        ]
        if clauses:
            found.append((follower, select(m).where(or_(*clauses)).order_by(m.id)))
    return found


async def _follow(
    session: AsyncSession, spec: EntitySpec, row: OperationalObject, actor: Actor
) -> None:
    """Derive again, as a write of their own (a version, a change record), the objects whose
    values come from this one's: when an incident stops being shared, its documents stop being
    shared in the same transaction, and the feed says so."""
    for follower, query in _followers(spec, row):
        for dependent in (await session.scalars(query.with_for_update())).all():
            values = {name: getattr(dependent, name) for name in _columns(follower)}
            await _prepare(session, follower, values, {}, None)
            if any(values[n] != getattr(dependent, n) for n in _columns(follower)):
                await _store(session, follower, dependent, values, actor)


async def _refuse_if_followed(
    session: AsyncSession, spec: EntitySpec, row: OperationalObject
) -> None:
    # Deleted under them, a document would keep the sharing its subject last had, and could
    # not be edited (its subject is gone): they are deleted first, on purpose.
    for follower, query in _followers(spec, row):
        count = await session.scalar(
            query.order_by(None).with_only_columns(func.count()).select_from(follower.model)
        )
        if count:
            raise conflict(
                f"{spec.label} {row.ref} has {count} {follower.label}(s) attached: "
                "delete them first",
                attached=follower.path,
            )


async def remove(
    session: AsyncSession,
    spec: EntitySpec,
    object_id: uuid.UUID,
    expected_version: int | None,
    actor: Actor,
) -> None:
    """Delete a wrongly created object; its last state stays in the change feed."""
    _refuse_append_only(spec)
    row = await get(session, spec, object_id, None, for_update=True)
    if expected_version is not None and row.version != expected_version:
        raise stale(spec, row, expected_version)
    await _refuse_if_followed(session, spec, row)
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
        # What the lock guards is the row as it is now, not as this session read it before:
        # without populate_existing, an object already in the session keeps its old values.
        query = query.with_for_update().execution_options(populate_existing=True)
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
    severity: list[str] | None = None  # a kind without a severity has none of them
    municipality: list[str] | None = None
    police_zone: list[str] | None = None
    q: str | None = None
    exercise: bool | None = None
    subject: uuid.UUID | None = None
    activation: uuid.UUID | None = None  # the crisis cell's objects: positions, tasks…
    zone: uuid.UUID | None = None  # objects linked to a zone by their zone_ids: plans…


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
    if f.severity:
        if "severity" in spec.fields:
            clauses.append(m.severity.in_(f.severity))  # type: ignore[attr-defined]
        else:
            clauses.append(false())
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
    if f.activation is not None:
        if "activation_id" in spec.fields:
            clauses.append(m.activation_id == f.activation)  # type: ignore[attr-defined]
        else:
            clauses.append(false())  # a kind that no cell holds
    if f.zone is not None:
        if "zone_ids" in spec.fields:
            clauses.append(m.zone_ids.any(f.zone))  # type: ignore[attr-defined]
        else:
            clauses.append(false())  # a kind that links no zones
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
    query = _listed(spec, f, scope)
    if after is not None:
        query = query.where(m.id < after)
    if f.bbox is not None:
        # The box decides the plan (walk the newest ids, or the spatial index then sort);
        # the generic plan of a prepared statement would pick one for every box.
        await session.execute(_CUSTOM_PLAN)
    rows = (await session.execute(query.limit(limit + 1))).all()
    features = [_listed_feature(spec, r, crs) for r in rows[:limit]]
    return features, len(rows) > limit


def _listed(spec: EntitySpec, f: ListFilter, scope: ColumnElement[bool] | None) -> Select[Any]:
    """A list's query, newest first: the columns a Feature shows, the geometry as PostGIS
    writes it. Not the area code arrays (the filters' own): each array is a list the driver
    builds and the ORM copies again, a fifth of reading a row."""
    m = spec.model
    shown = {"id", "areas", *COMMON_BEFORE, *spec.fields, *COMMON_AFTER}
    columns = [c for c in m.__table__.columns if c.key in shown]  # type: ignore[attr-defined]
    query = filtered(spec, f, scope).with_only_columns(
        *columns, func.ST_AsGeoJSON(m.geom, 15, 0).label("geojson")
    )
    return query.order_by(m.id.desc())


def _listed_feature(spec: EntitySpec, r: Any, crs: str) -> dict[str, Any]:
    return feature_of(spec, r.id, r._mapping.__getitem__, r.areas, geojson_geometry(r.geojson, crs))


async def stream(
    session: AsyncSession,
    spec: EntitySpec,
    f: ListFilter,
    scope: ColumnElement[bool] | None,
    chunk: int,
    geometry: Callable[[str | None], Any] = geojson_geometry,
) -> AsyncIterator[list[dict[str, Any]]]:
    """The whole list `page` reads a page of, as Features `chunk` at a time, read through a
    server-side cursor (in the session's transaction): what is held at once is one chunk,
    however long the list (the exports, app/exchange). `geometry` makes each Feature's
    geometry of the GeoJSON text PostGIS wrote (embedded as is, by default)."""
    if f.bbox is not None:
        await session.execute(_CUSTOM_PLAN)
    result = await session.stream(_listed(spec, f, scope).execution_options(yield_per=chunk))
    async for rows in result.partitions(chunk):
        yield [
            feature_of(spec, r.id, r._mapping.__getitem__, r.areas, geometry(r.geojson))
            for r in rows
        ]
