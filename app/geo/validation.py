"""GeoJSON geometry input: structure, CRS, plausibility (Belgium), validity (DESIGN §5)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from app.errors import invalid_geometry
from app.geo.crs import PROJECTED_EXTENT, WGS84, transform

MAX_VERTICES = 10_000
# Belgium with a margin: objects just across the border (e.g. an event route) still fit.
BELGIUM_BOUNDS = (2.3, 49.3, 6.6, 51.7)

_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


@dataclass
class ParsedGeometry:
    geometry: BaseGeometry
    notes: list[str] = field(default_factory=list)


class _Invalid(Exception):
    def __init__(self, loc: list[Any], msg: str) -> None:
        self.loc, self.msg = loc, msg


def _check_position(pos: Any, loc: list[Any]) -> None:
    if not isinstance(pos, list) or len(pos) not in (2, 3):
        raise _Invalid(loc, "a position is an array of 2 (or 3) numbers [lon, lat]")
    for i, v in enumerate(pos):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise _Invalid([*loc, i], "coordinate must be a finite number")


def _walk(coords: Any, depth: int, loc: list[Any], counter: list[int]) -> None:
    if depth == 0:
        _check_position(coords, loc)
        counter[0] += 1
        if counter[0] > MAX_VERTICES:
            raise _Invalid(loc, f"geometry has more than {MAX_VERTICES} vertices; simplify it")
        return
    if not isinstance(coords, list):
        raise _Invalid(loc, "expected an array")
    for i, c in enumerate(coords):
        _walk(c, depth - 1, [*loc, i], counter)


def _check_parts(gtype: str, coords: Any, loc: list[Any]) -> None:
    def line(c: list[Any], at: list[Any]) -> None:
        if len(c) < 2:
            raise _Invalid(at, "a line needs at least 2 positions")

    def polygon(rings: list[Any], at: list[Any]) -> None:
        if not rings:
            raise _Invalid(at, "a polygon needs an exterior ring")
        for r, ring in enumerate(rings):
            if len(ring) < 4:
                raise _Invalid([*at, r], "a ring needs at least 4 positions (first = last)")
            if ring[0][:2] != ring[-1][:2]:
                raise _Invalid(
                    [*at, r], "ring is not closed: its last position must equal its first"
                )

    if gtype == "LineString":
        line(coords, loc)
    elif gtype == "MultiLineString":
        for i, c in enumerate(coords):
            line(c, [*loc, i])
    elif gtype == "Polygon":
        polygon(coords, loc)
    elif gtype == "MultiPolygon":
        for i, c in enumerate(coords):
            polygon(c, [*loc, i])
    if gtype.startswith("Multi") and not coords:
        raise _Invalid(loc, "geometry is empty")


def _in_bounds(geom: BaseGeometry, bounds: tuple[float, float, float, float]) -> bool:
    minx, miny, maxx, maxy = geom.bounds
    return bool(minx >= bounds[0] and miny >= bounds[1] and maxx <= bounds[2] and maxy <= bounds[3])


def _swapped(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda c: c[:, ::-1])


def _location(reason: str) -> list[float] | None:
    if "[" in reason and reason.endswith("]"):
        try:
            x, y = (float(v) for v in reason[reason.index("[") + 1 : -1].split())
            return [x, y]
        except ValueError:
            return None
    return None


def _only_allowed(geom: BaseGeometry) -> BaseGeometry:
    """make_valid may return a collection with slivers of lower dimension; keep the areal part."""
    if geom.geom_type != "GeometryCollection":
        return geom
    polys = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else geom


def parse_geometry(
    raw: Any,
    *,
    crs: str = WGS84,
    repair: bool = False,
    allowed: frozenset[str] | None = None,
    loc: tuple[Any, ...] = ("body", "geometry"),
) -> ParsedGeometry:
    """Validate GeoJSON geometry input; answer 422 naming the place of the first problem."""
    try:
        return _parse(raw, crs, repair, allowed, list(loc))
    except _Invalid as e:
        raise invalid_geometry(e.loc, e.msg) from None


def _parse(
    raw: Any, crs: str, repair: bool, allowed: frozenset[str] | None, loc: list[Any]
) -> ParsedGeometry:
    if not isinstance(raw, dict):
        raise _Invalid(loc, "geometry must be a GeoJSON geometry object")
    gtype = raw.get("type")
    if gtype == "GeometryCollection":
        raise _Invalid([*loc, "type"], "GeometryCollection is not accepted; send one geometry")
    if gtype not in _DEPTH:
        raise _Invalid([*loc, "type"], f"unknown geometry type {gtype!r}")
    if allowed is not None and gtype not in allowed:
        raise _Invalid(
            [*loc, "type"], f"{gtype} is not accepted here; use {', '.join(sorted(allowed))}"
        )
    extra = set(raw) - {"type", "coordinates", "bbox"}
    if extra:
        raise _Invalid([*loc, sorted(extra)[0]], "unknown member of a geometry")
    if "coordinates" not in raw:
        raise _Invalid([*loc, "coordinates"], "missing coordinates")
    coords = raw["coordinates"]
    if coords == [] or coords is None:
        raise _Invalid([*loc, "coordinates"], "geometry is empty")
    _walk(coords, _DEPTH[gtype], [*loc, "coordinates"], [0])
    _check_parts(gtype, coords, [*loc, "coordinates"])

    geom = shape({"type": gtype, "coordinates": coords})
    if geom.is_empty:
        raise _Invalid([*loc, "coordinates"], "geometry is empty")
    geom = shapely.force_2d(geom)
    notes: list[str] = []

    if crs != WGS84:
        extent = PROJECTED_EXTENT[crs]
        if not _in_bounds(geom, extent):
            hint = (
                " (these look like lon/lat degrees: drop ?crs)"
                if _in_bounds(geom, BELGIUM_BOUNDS)
                else ""
            )
            raise _Invalid([*loc, "coordinates"], f"coordinates are outside Belgium in {crs}{hint}")
        geom = transform(geom, crs, WGS84)
    if not _in_bounds(geom, BELGIUM_BOUNDS):
        if _in_bounds(_swapped(geom), BELGIUM_BOUNDS):
            msg = "coordinates look like [lat, lon]; GeoJSON order is [longitude, latitude]"
        else:
            msg = (
                "coordinates are far outside Belgium (expected lon 2.3..6.6, lat 49.3..51.7; "
                "Lambert coordinates need ?crs=EPSG:31370 or EPSG:3812)"
            )
        raise _Invalid([*loc, "coordinates"], msg)

    if not geom.is_valid:
        reason = explain_validity(geom)
        if not repair:
            where = _location(reason)
            raise _Invalid(
                [*loc, "coordinates"],
                f"invalid geometry: {reason.split('[')[0]}"
                + (f" at lon {where[0]:.6f}, lat {where[1]:.6f}" if where else "")
                + "; fix it or send ?repair=true",
            )
        geom = _only_allowed(shapely.make_valid(geom))
        if geom.is_empty or not geom.is_valid:
            raise _Invalid(
                [*loc, "coordinates"], f"invalid geometry that cannot be repaired: {reason}"
            )
        notes.append(f"geometry repaired ({reason})")
    return ParsedGeometry(geom, notes)
