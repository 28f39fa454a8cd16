"""Mapbox Vector Tiles of the operational layers, built by PostGIS (`ST_AsMVT`): the same rows,
filters and scope as the lists (`objects.filtered`), cut to one tile of the web-mercator grid.

A tile holds what the map styles and the click-through need, not the whole object: the detail
panel reads the rest by id. Incidents are clustered in the tile below CLUSTER_MAX_ZOOM, as the
dashboard's GeoJSON source clusters them, so that a tile of a year's incidents stays small."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Numeric,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.enums import SEVERITY_ORDER
from app.domain.objects import ListFilter, filtered
from app.domain.spec import EntitySpec

EXTENT = 4096
# Tile units drawn beyond the edge: a wide line or a ring is not cut at the tile's border.
BUFFER = 64
MAX_ZOOM = 22
WORLD = 40075016.68557849  # the web-mercator square's side, metres
# As the dashboard's GeoJSON source: clusters up to this zoom, of a radius of 45 px (512 px
# tiles at MapLibre's scale: 45 / 512 of the extent).
CLUSTER_MAX_ZOOM = 14
CLUSTER_CELL = EXTENT * 45 // 512
# The layers a tile of each collection holds, and the fields of each (TileJSON's vector_layers).
FIELDS: dict[str, str] = {
    "oid": "String: the object's id (GET /api/<collection>/<oid> reads it whole)",
    "entity": "String: the kind of object",
    "ref": "String: its human reference",
    "title": "String",
    "kind": "String: its category or kind",
    "status": "String",
    "severity": "String: minor, moderate, severe or extreme (incidents)",
    "sev": "Number: the severity's rank, 0 (minor) to 3 (extreme); -1 without one",
    "version": "Number",
    "exercise": "Boolean",
    "start": "Number: start of its validity window, epoch seconds (absent: open)",
    "end": "Number: end of its validity window, epoch seconds (absent: open)",
}
CLUSTER_FIELDS: dict[str, str] = {
    "point_count": "Number: incidents in the cluster",
    "point_count_abbreviated": "String: the same, as 1.2k",
    "maxsev": "Number: the highest severity rank in the cluster",
    "cluster": "Boolean: always true",
}
_SEV_RANK = {s.value: i for i, s in enumerate(SEVERITY_ORDER)}


@dataclass(frozen=True)
class TileLayer:
    name: str
    fields: dict[str, str]
    description: str


def layers_of(spec: EntitySpec) -> list[TileLayer]:
    """The vector layers a collection's tiles hold."""
    entity = spec.entity.value
    if entity != "incident":
        return [TileLayer(entity, FIELDS, f"{spec.path}, one feature per object")]
    return [
        TileLayer("incident", FIELDS, "incidents as points (a shape's point on its surface)"),
        TileLayer(
            "incident-cluster",
            CLUSTER_FIELDS,
            f"incidents clustered below zoom {CLUSTER_MAX_ZOOM + 1}",
        ),
        TileLayer("incident-shape", FIELDS, "incidents drawn as a line or an area, as drawn"),
    ]


def valid_tile(z: int, x: int, y: int) -> str | None:
    """What is wrong with a tile address, naming the part; None when it names a tile."""
    if not 0 <= z <= MAX_ZOOM:
        return "z"
    if not 0 <= x < 2**z:
        return "x"
    if not 0 <= y < 2**z:
        return "y"
    return None


def _epoch(column: Any) -> ColumnElement[Any]:
    return cast(func.extract("epoch", column), Integer)


def _properties(spec: EntitySpec) -> list[ColumnElement[Any]]:
    m = spec.model
    entity = spec.entity.value
    sev: ColumnElement[Any] = literal(-1)
    severity: ColumnElement[Any] = cast(null(), String)
    if "severity" in spec.fields:
        severity = m.severity  # type: ignore[attr-defined]
        sev = case(_SEV_RANK, value=severity, else_=-1)
    start: ColumnElement[Any] = cast(null(), Integer)
    end: ColumnElement[Any] = cast(null(), Integer)
    if spec.window:
        start = _epoch(getattr(m, spec.window[0]))
        if entity == "incident":
            start = func.coalesce(start, _epoch(m.occurred_at))  # type: ignore[attr-defined]
        if spec.window[1]:
            end = _epoch(getattr(m, spec.window[1]))
    kind = getattr(m, spec.kind_field) if spec.kind_field else cast(null(), String)
    status = getattr(m, spec.status_field) if spec.status_field else cast(null(), String)
    return [
        cast(m.id, String).label("oid"),
        literal(entity).label("entity"),
        m.ref.label("ref"),
        m.title.label("title"),
        cast(kind, String).label("kind"),
        cast(status, String).label("status"),
        cast(severity, String).label("severity"),
        cast(sev, Integer).label("sev"),
        m.version.label("version"),
        m.exercise.label("exercise"),
        start.label("start"),
        end.label("end"),
    ]


def _mvt(rows: Select[Any], layer: str) -> Select[Any]:
    t = rows.subquery("t")
    return select(
        func.coalesce(func.ST_AsMVT(literal_column("t"), layer, EXTENT, "geom"), literal(b""))
    ).select_from(t)


def _in_tile(
    spec: EntitySpec, f: ListFilter, scope: ColumnElement[bool] | None, z: int, x: int, y: int
) -> tuple[Select[Any], ColumnElement[Any]]:
    """The collection's rows that meet the tile (with its buffer), and the tile's envelope."""
    m = spec.model
    envelope = func.ST_TileEnvelope(z, x, y)
    margin = func.ST_Expand(envelope, WORLD / 2**z * BUFFER / EXTENT)
    rows = filtered(spec, f, scope).where(
        m.geom.is_not(None),
        func.ST_Intersects(m.geom, func.ST_Transform(margin, 4326)),
    )
    return rows, envelope


def _geom(geometry: Any, envelope: ColumnElement[Any], buffer: int = BUFFER) -> Any:
    return func.ST_AsMVTGeom(func.ST_Transform(geometry, 3857), envelope, EXTENT, buffer, True)


def tile_statement(
    spec: EntitySpec, f: ListFilter, scope: ColumnElement[bool] | None, z: int, x: int, y: int
) -> Select[Any]:
    """One statement answering the tile's bytes (empty when nothing meets it)."""
    rows, envelope = _in_tile(spec, f, scope, z, x, y)
    m = spec.model
    props = _properties(spec)
    entity = spec.entity.value
    if entity != "incident":
        shown = rows.with_only_columns(*props, _geom(m.geom, envelope).label("geom"))
        return _mvt(shown, entity)
    point = func.ST_PointOnSurface(m.geom)
    shapes = rows.where(func.GeometryType(m.geom) != "POINT").with_only_columns(
        *props, _geom(m.geom, envelope).label("geom")
    )
    points = rows.with_only_columns(*props, _geom(point, envelope, 0).label("geom")).subquery("p")
    shape_tile = _mvt(shapes, "incident-shape").scalar_subquery()
    if z > CLUSTER_MAX_ZOOM:
        point_tile = _mvt(
            select(points).where(points.c.geom.is_not(None)), "incident"
        ).scalar_subquery()
        return select(point_tile.op("||")(shape_tile))
    # Grid clusters of CLUSTER_CELL tile units: a cell holding one incident shows it as such.
    cx = func.floor(func.ST_X(points.c.geom) / CLUSTER_CELL)
    cy = func.floor(func.ST_Y(points.c.geom) / CLUSTER_CELL)
    placed = (
        select(
            points,
            cx.label("cx"),
            cy.label("cy"),
            func.count().over(partition_by=(cx, cy)).label("n"),
        )
        .where(points.c.geom.is_not(None))
        .subquery("placed")
    )
    singles = select(*(placed.c[c.key] for c in points.c)).where(placed.c.n == 1)
    n = func.count()
    thousands = cast(n, Numeric) / 1000
    abbreviated = case(
        (n >= 10000, cast(func.round(thousands), Integer).cast(String) + "k"),
        (n >= 1000, cast(func.round(thousands, 1), String) + "k"),
        else_=cast(n, String),
    )
    clusters = (
        select(
            n.label("point_count"),
            abbreviated.label("point_count_abbreviated"),
            func.max(placed.c.sev).label("maxsev"),
            literal(True).label("cluster"),
            cast(func.ST_Centroid(func.ST_Collect(placed.c.geom)), placed.c.geom.type).label(
                "geom"
            ),
        )
        .where(placed.c.n > 1)
        .group_by(placed.c.cx, placed.c.cy)
    )
    single_tile = _mvt(singles, "incident").scalar_subquery()
    cluster_tile = _mvt(clusters, "incident-cluster").scalar_subquery()
    return select(single_tile.op("||")(cluster_tile).op("||")(shape_tile))


async def tile(
    session: AsyncSession,
    spec: EntitySpec,
    f: ListFilter,
    scope: ColumnElement[bool] | None,
    z: int,
    x: int,
    y: int,
) -> bytes:
    value = (await session.execute(tile_statement(spec, f, scope, z, x, y))).scalar_one()
    return bytes(value or b"")
