"""The dashboard's first load of a big collection, compact: one row of plain values per object,
only what the map's legend, the lists and the search need. The detail panel reads an object
whole when it opens it.

Such a collection (above the tile threshold) is drawn from vector tiles (app.domain.tiles): its
rows carry a point standing for the geometry (for search and fly-to), not the geometry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, String, Text, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.objects import ListFilter, filtered
from app.domain.spec import EntitySpec

# Every compact row's first values, then the kind's own (COMPACT_FIELDS), then the geometry.
COMMON = ("id", "ref", "version", "title", "visibility", "shared_with", "exercise")
# What the dashboard reads of each kind beyond COMMON: its kind and status, its validity window,
# and the links that draw an activation at its subject.
COMPACT_FIELDS: dict[str, tuple[str, ...]] = {
    "incident": ("category", "severity", "status", "occurred_at", "reported_at", "closed_at"),
    "planned_event": ("kind", "status", "starts_at", "ends_at"),
    "demonstration": ("authorisation", "starts_at", "ends_at"),
    "zone": ("kind", "valid_from", "valid_to", "parent_entity", "parent_id"),
    "activation": ("level", "status", "opened_at", "closed_at", "subject_entity", "subject_id"),
}
COMPACT = tuple(COMPACT_FIELDS)
# Drawn from the objects they stand for (an activation without a geometry of its own is drawn at
# its subject), which tiles cannot do; and they are few (115 GCC activations in 2024).
NEVER_TILED = frozenset({"activation"})


def fields_of(spec: EntitySpec) -> tuple[str, ...]:
    own = [f for f in COMPACT_FIELDS[spec.entity.value] if f in spec.fields or f in COMMON]
    return (*COMMON, *own, "geometry")


def _value(spec: EntitySpec, name: str) -> ColumnElement[Any]:
    column = getattr(spec.model, name)
    if name == "id" or name.endswith("_id"):
        return cast(column, String)
    return column  # type: ignore[no-any-return]


def picture_filter(exercise: bool | None) -> ListFilter:
    """The filter of the picture asked: the real one (False: no exercise object), the exercise
    picture (True: only them), or both (None), as the lists' `exercise`."""
    return ListFilter(exercise=exercise)


def compact_statement(
    spec: EntitySpec, scope: ColumnElement[bool] | None, exercise: bool | None = None
) -> Select[Any]:
    """One JSON array of rows, newest first, written by PostgreSQL: no row object in Python."""
    m = spec.model
    names = fields_of(spec)[:-1]
    shape = func.ST_PointOnSurface(m.geom)
    row = func.json_build_array(
        *(_value(spec, n) for n in names), cast(func.ST_AsGeoJSON(shape, 6), JSON)
    )
    rows = filtered(spec, picture_filter(exercise), scope).with_only_columns(row.label("r"))
    inner = rows.order_by(m.id.desc()).subquery("rows")
    return select(cast(func.coalesce(func.json_agg(inner.c.r), cast(literal("[]"), JSON)), Text))


async def count(
    session: AsyncSession,
    spec: EntitySpec,
    scope: ColumnElement[bool] | None,
    exercise: bool | None = None,
) -> int:
    query = filtered(spec, picture_filter(exercise), scope).with_only_columns(func.count())
    query = query.select_from(spec.model)
    return int((await session.execute(query)).scalar_one())


async def compact(
    session: AsyncSession,
    spec: EntitySpec,
    scope: ColumnElement[bool] | None,
    exercise: bool | None = None,
) -> bytes:
    """The rows' JSON text, as PostgreSQL wrote it."""
    text = (await session.execute(compact_statement(spec, scope, exercise))).scalar_one()
    return str(text).encode()
