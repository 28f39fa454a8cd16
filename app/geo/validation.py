"""GeoJSON geometry input: structure, CRS, plausibility (Belgium), validity (DESIGN §5).

Checked off the event loop (app/cpu.py), and bounded: at most MAX_VERTICES vertices, and a
repair only of a geometry that crosses itself at most MAX_REPAIR_CROSSINGS times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from app import cpu
from app.errors import invalid_geometry
from app.geo.crs import PROJECTED_EXTENT, WGS84, to_geojson, transform

MAX_VERTICES = 10_000
# A repair's cost grows with how often the outline crosses or overlaps itself, not with its
# vertices: GEOS's default make_valid took 6 s for a 100-vertex star (each edge crossing most
# others) and 4 s for the 9,990-vertex zig-zag; a line folded onto itself took minutes even
# with the faster "structure" method used here. Up to this many crossings the costliest
# outlines measured take 0.02 s (bench/geometry_repair.py). A drawn or digitised outline with a
# mistake crosses itself a few times; a thousand crossings is not an outline to repair.
MAX_REPAIR_CROSSINGS = 1000
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
    # Its GeoJSON and WKB, written where it is parsed (off the event loop): for 10,000
    # vertices, 10 ms the write path would otherwise spend on the loop.
    geojson: dict[str, Any] = field(init=False)
    wkb: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.geojson = to_geojson(self.geometry)
        self.wkb = shapely.to_wkb(self.geometry)


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


def _crossings(geom: BaseGeometry, limit: int) -> int:
    """How often the rings of `geom` cross, touch or overlap one another or themselves (a
    ring's consecutive edges excepted), counted until `limit` is passed: so this costs time in
    proportion to the vertices and `limit`, never to the crossings themselves."""
    ends = [shapely.get_coordinates(r) for r in shapely.get_rings(geom)]
    if not ends:  # a line or a point: GEOS finds nothing in them to repair but degeneracy
        return 0
    edges = shapely.linestrings(np.concatenate([np.stack([c[:-1], c[1:]], axis=1) for c in ends]))
    ring_of = np.concatenate([np.full(len(c) - 1, i) for i, c in enumerate(ends)])
    first = np.cumsum([0] + [len(c) - 1 for c in ends])
    last = first[1:] - 1
    tree = shapely.STRtree(edges)
    found = 0
    # A few edges at a time: one edge of a folded outline can meet thousands of others.
    for start in range(0, len(edges), 8):
        mine = np.arange(start, min(start + 8, len(edges)))
        which, other = tree.query(edges[mine], predicate="intersects")
        edge = mine[which]
        ring = ring_of[edge]
        neighbours = (ring == ring_of[other]) & (
            (other - edge == 1) | ((edge == first[ring]) & (other == last[ring]))
        )
        found += int(np.count_nonzero((edge < other) & ~neighbours))
        if found > limit:
            break
    return found


async def parse_geometry(
    raw: Any,
    *,
    crs: str = WGS84,
    repair: bool = False,
    allowed: frozenset[str] | None = None,
    loc: tuple[Any, ...] = ("body", "geometry"),
) -> ParsedGeometry:
    """Validate GeoJSON geometry input, off the event loop; answer 422 naming the place of the
    first problem. A Point (one position: microseconds of work) is checked on the loop: the hop
    to a pool thread, which runs at a lower priority, cost more than the check itself, and on a
    busy machine it made most of a create's latency (bench/ingest.py, docs/performance.md)."""
    if isinstance(raw, dict) and raw.get("type") == "Point":
        return _checked(raw, crs, repair, allowed, loc)
    return await cpu.run(_checked, raw, crs, repair, allowed, loc)


def _checked(
    raw: Any, crs: str, repair: bool, allowed: frozenset[str] | None, loc: tuple[Any, ...]
) -> ParsedGeometry:
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
        crossings = _crossings(geom, MAX_REPAIR_CROSSINGS)
        if crossings > MAX_REPAIR_CROSSINGS:
            raise _Invalid(
                [*loc, "coordinates"],
                f"invalid geometry that crosses or overlaps itself more than "
                f"{MAX_REPAIR_CROSSINGS} times: too many to repair; fix or simplify it",
            )
        # "structure" keeps the area the rings enclose and drops collapsed slivers; the default
        # "linework" method builds every face its crossings make, far slower (see above).
        geom = _only_allowed(shapely.make_valid(geom, method="structure", keep_collapsed=False))
        if geom.is_empty or not geom.is_valid:
            raise _Invalid(
                [*loc, "coordinates"], f"invalid geometry that cannot be repaired: {reason}"
            )
        notes.append(f"geometry repaired ({reason})")
    return ParsedGeometry(geom, notes)
