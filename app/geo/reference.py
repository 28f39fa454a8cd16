"""Reference layers (region, municipalities, police zones, landmarks) and the join that enriches
objects with their municipality and police zone."""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import BigInteger, Identity, Index, String, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.errors import ProblemError, reference_layers_missing
from app.geo.crs import WGS84, geojson_geometry

LAYERS = ("region", "municipality", "police_zone", "landmark")
# Layers of areas: cut into parts for the spatial join. Landmarks are points, for the map and
# the search only.
AREA_LAYERS = ("region", "municipality", "police_zone")
LAYER_FILES = {
    "region": "region.geojson",
    "municipality": "municipalities.geojson",
    "police_zone": "police_zones.geojson",
    "landmark": "landmarks.geojson",
}


class ReferenceArea(Base):
    """A whole reference feature, as published (for display and for reads): a polygon of an
    area layer, or a landmark's point."""

    __tablename__ = "reference_areas"

    layer: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_fr: Mapped[str] = mapped_column(String(128))
    name_nl: Mapped[str] = mapped_column(String(128))
    parent_code: Mapped[str | None] = mapped_column(String(16))
    geom: Mapped[object] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))


class ReferenceAreaPart(Base):
    """Reference polygons cut into small pieces (ST_Subdivide), for fast spatial joins."""

    __tablename__ = "reference_area_parts"
    __table_args__ = (Index("ix_reference_area_parts_geom", "geom", postgresql_using="gist"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    layer: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(16))
    geom: Mapped[object] = mapped_column(Geometry("POLYGON", srid=4326, spatial_index=False))


@dataclass(frozen=True)
class AreaRow:
    layer: str
    code: str
    name_fr: str
    name_nl: str
    parent_code: str | None
    geometry: BaseGeometry


def detect_layer(features: list[dict[str, Any]]) -> str:
    props = features[0].get("properties") or {} if features else {}
    if all(
        (f.get("geometry") or {}).get("type") == "Point"
        and ({"name", "name_fr"} & set(f.get("properties") or {}))
        for f in features
    ):
        return "landmark"
    if "zone_id" in props:
        return "police_zone"
    nis = str(props.get("nis_code", ""))
    if len(features) == 1 and (nis == "04000" or "name_en" in props):
        return "region"
    if nis.startswith("21"):
        return "municipality"
    raise ValueError(
        "cannot tell which reference layer this is "
        "(expected zone_id or nis_code, or named points for landmarks)"
    )


def slug(text: str) -> str:
    """A stable code from a name: 'Gare du Midi' -> 'gare-du-midi'."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:64]


def landmark_names(props: dict[str, Any]) -> tuple[str, str]:
    """French and Dutch names: name_fr/name_nl, or one `name` written "FR / NL" (one name for
    both when it does not split, e.g. "Atomium")."""
    if props.get("name_fr"):
        return str(props["name_fr"]), str(props.get("name_nl") or props["name_fr"])
    name = str(props["name"])
    fr, sep, nl = name.partition(" / ")
    return (fr.strip(), nl.strip()) if sep and nl.strip() else (name, name)


def rows_from_geojson(doc: dict[str, Any], layer: str | None = None) -> list[AreaRow]:
    features = doc.get("features") if doc.get("type") == "FeatureCollection" else None
    if not features:
        raise ValueError("expected a non-empty GeoJSON FeatureCollection")
    layer = layer or detect_layer(features)
    rows = []
    for f in features:
        p = f.get("properties") or {}
        geom = shape(f["geometry"])
        if layer == "landmark":
            if geom.geom_type != "Point":
                raise ValueError(f"a landmark is a Point, not a {geom.geom_type}")
            fr, nl = landmark_names(p)
            code = str(p.get("code") or slug(fr))
            rows.append(AreaRow(layer, code, fr, nl, None, geom))
            continue
        if geom.geom_type == "Polygon":
            from shapely.geometry import MultiPolygon

            geom = MultiPolygon([geom])
        if layer == "police_zone":
            code, parent = str(p["zone_id"]), None
        elif layer == "municipality":
            code, parent = (
                str(p["nis_code"]),
                (str(p["police_zone"]) if p.get("police_zone") else None),
            )
        else:
            code, parent = str(p.get("nis_code", "04000")), None
        rows.append(
            AreaRow(layer, code, p.get("name_fr", code), p.get("name_nl", code), parent, geom)
        )
    codes = [r.code for r in rows]
    if len(set(codes)) != len(codes):
        twice = sorted({c for c in codes if codes.count(c) > 1})
        raise ValueError(f"{layer}: the same code twice: {', '.join(twice)}")
    return rows


async def read_source(source: str) -> dict[str, Any]:
    if source.startswith(("http://", "https://")):
        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.get(source)
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data
    # Big GeoJSON: read and parse off the event loop.
    loaded: dict[str, Any] = await asyncio.to_thread(
        lambda: json.loads(Path(source).read_text(encoding="utf-8"))
    )
    return loaded


def expand_sources(paths: list[str]) -> list[str]:
    """A directory stands for the layer files found in it."""
    out: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = [str(path / name) for name in LAYER_FILES.values() if (path / name).exists()]
            if not found:
                raise ValueError(f"{p}: none of {', '.join(LAYER_FILES.values())} found")
            out.extend(found)
        else:
            out.append(p)
    return out


async def replace_layer(session: AsyncSession, layer: str, rows: list[AreaRow]) -> int:
    """Replace one layer wholesale (idempotent), and its subdivided copy used for joins."""
    await session.execute(delete(ReferenceArea).where(ReferenceArea.layer == layer))
    await session.execute(text("DELETE FROM reference_area_parts WHERE layer = :l"), {"l": layer})
    for r in rows:
        session.add(
            ReferenceArea(
                layer=layer,
                code=r.code,
                name_fr=r.name_fr,
                name_nl=r.name_nl,
                parent_code=r.parent_code,
                geom=from_shape(r.geometry, srid=4326),
            )
        )
    await session.flush()
    if layer not in AREA_LAYERS:
        return len(rows)
    # Subdivided parts keep point-in-polygon tests cheap on detailed UrbIS outlines.
    await session.execute(
        text(
            """INSERT INTO reference_area_parts (layer, code, geom)
               SELECT layer, code, ST_Subdivide(geom, 128) FROM reference_areas WHERE layer = :l"""
        ),
        {"l": layer},
    )
    return len(rows)


# The municipalities and police zones a geometry touches, as one SQL fragment: CTEs over a CTE
# `g` holding the geometry (column `geom`, possibly NULL), ending in `areas` with one row:
# the JSON stored on each object (`areas`) and the code arrays the list filters use. The
# primary area of each layer holds the geometry's representative point (ST_PointOnSurface),
# or is the first touched one. Used alone (`areas_for`) and inside the create statement, so
# that a create costs one round trip.
AREAS_SQL = """
    hits AS (
        SELECT a.layer, a.code,
               jsonb_build_object('code', a.code, 'name_fr', a.name_fr, 'name_nl', a.name_nl)
                   AS item,
               -- A point is its own representative point: each area it touches holds it.
               CASE WHEN (SELECT ST_GeometryType(geom) FROM g) = 'ST_Point' THEN true
                    ELSE EXISTS (SELECT 1 FROM reference_area_parts p, g
                                 WHERE p.layer = a.layer AND p.code = a.code
                                   AND ST_Intersects(p.geom, ST_PointOnSurface(g.geom)))
               END AS prim
        FROM reference_areas a
        JOIN (SELECT DISTINCT p.layer, p.code FROM reference_area_parts p, g
              WHERE p.layer IN ('municipality', 'police_zone')
                AND ST_Intersects(p.geom, g.geom)) touched USING (layer, code)),
    areas AS (
        SELECT jsonb_build_object(
                   'municipality', COALESCE(
                       (SELECT item FROM hits WHERE layer = 'municipality'
                        ORDER BY prim DESC, code LIMIT 1), 'null'::jsonb),
                   'municipalities', COALESCE(
                       (SELECT jsonb_agg(item ORDER BY code) FROM hits
                        WHERE layer = 'municipality'), '[]'::jsonb),
                   'police_zone', COALESCE(
                       (SELECT item FROM hits WHERE layer = 'police_zone'
                        ORDER BY prim DESC, code LIMIT 1), 'null'::jsonb),
                   'police_zones', COALESCE(
                       (SELECT jsonb_agg(item ORDER BY code) FROM hits
                        WHERE layer = 'police_zone'), '[]'::jsonb)) AS areas,
               ARRAY(SELECT code FROM hits WHERE layer = 'municipality' ORDER BY code)
                   ::varchar(8)[] AS municipality_codes,
               ARRAY(SELECT code FROM hits WHERE layer = 'police_zone' ORDER BY code)
                   ::varchar(8)[] AS police_zone_codes)
"""

_AREAS_ALONE = text(
    f"WITH g AS (SELECT ST_GeomFromWKB(:wkb, 4326) AS geom), {AREAS_SQL} SELECT areas FROM areas"
)


async def areas_for(session: AsyncSession, geom: BaseGeometry | None) -> dict[str, Any]:
    """Municipalities and police zones a geometry touches (see AREAS_SQL)."""
    if geom is None:
        return {"municipality": None, "municipalities": [], "police_zone": None, "police_zones": []}
    areas: dict[str, Any] = (await session.execute(_AREAS_ALONE, {"wkb": geom.wkb})).scalar_one()
    return areas


async def layer_features(
    session: AsyncSession,
    layer: str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    after: str | None = None,
    code: str | None = None,
    limit: int | None = None,
    crs: str = WGS84,
    simplify: float | None = None,
) -> list[dict[str, Any]]:
    """A layer's features by code, as GeoJSON: those meeting `bbox`, after the code `after`,
    or the one of `code`. With `simplify` (degrees), outlines for display: simplified within
    that tolerance, each one still valid (ST_SimplifyPreserveTopology: neighbours are simplified
    apart, so their common edge may part by up to the tolerance), at six decimals (0.1 m); the
    stored geometry, which enriches every object, is not touched."""
    geom: Any = ReferenceArea.geom
    digits = 15
    if simplify is not None:
        geom, digits = func.ST_SimplifyPreserveTopology(geom, simplify), 6
    query = (
        select(
            ReferenceArea.code,
            ReferenceArea.name_fr,
            ReferenceArea.name_nl,
            ReferenceArea.parent_code,
            func.ST_AsGeoJSON(geom, digits, 0).label("geojson"),
        )
        .where(ReferenceArea.layer == layer)
        .order_by(ReferenceArea.code)
    )
    if bbox is not None:
        query = query.where(
            func.ST_Intersects(ReferenceArea.geom, func.ST_MakeEnvelope(*bbox, 4326))
        )
    if after is not None:
        query = query.where(ReferenceArea.code > after)
    if code is not None:
        query = query.where(ReferenceArea.code == code)
    if limit is not None:
        query = query.limit(limit)
    return [
        {
            "type": "Feature",
            "id": r.code,
            "geometry": geojson_geometry(r.geojson, crs),
            "properties": {
                "layer": layer,
                "code": r.code,
                "name_fr": r.name_fr,
                "name_nl": r.name_nl,
                "parent_code": r.parent_code,
            },
        }
        for r in await session.execute(query)
    ]


async def layer_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(ReferenceArea.layer, func.count()).group_by(ReferenceArea.layer)
    )
    return {layer: int(n) for layer, n in rows.all()}


def not_loaded() -> ProblemError:
    return reference_layers_missing()
