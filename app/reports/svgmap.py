"""Maps drawn on the server as SVG, for the printed reports: the Region's reference layers
(municipalities, police zones) under the objects a report is about. No tiles, no internet, no
browser: geometries are projected with pyproj to Belgian Lambert 72 (metres, so that a circle
is round and a distance is a distance) and written as SVG paths, which WeasyPrint draws into a
PDF and any browser shows inline.

CPU work (projection, simplification, writing thousands of coordinates): callers run `draw` in
the bounded pool (app.cpu), as they do the PDF it goes into.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app.geo.crs import LAMBERT72, WGS84, transform

# A thin white edge keeps neighbouring objects apart when they overlap.
EDGE = "#ffffff"


@dataclass(frozen=True)
class Style:
    fill: str = "none"
    stroke: str = "#333333"
    width: float = 1.0  # stroke width, in pixels of the drawing
    opacity: float = 1.0  # of the fill
    radius: float = 4.0  # of a point's dot, in pixels


@dataclass(frozen=True)
class Shape:
    geometry: BaseGeometry  # in Lambert 72 (project() makes it so)
    style: Style
    label: str | None = None  # written at the shape's representative point
    title: str | None = None  # a browser shows it on hover


@dataclass
class Layer:
    name: str  # the SVG group's class: "municipality", "incident"…
    shapes: list[Shape] = field(default_factory=list)


def project(geojson: dict[str, Any]) -> BaseGeometry:
    """A GeoJSON geometry (WGS 84, RFC 7946) in Lambert 72 metres."""
    return transform(shape(geojson), WGS84, LAMBERT72)


@dataclass(frozen=True)
class _Frame:
    """Lambert 72 metres to the drawing's pixels (y grows downwards in SVG)."""

    minx: float
    maxy: float
    scale: float
    width: int
    height: int

    def pixels(self, coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords)
        out[:, 0] = (coords[:, 0] - self.minx) * self.scale
        out[:, 1] = (self.maxy - coords[:, 1]) * self.scale
        return out


def _frame(bounds: tuple[float, float, float, float], width: int, margin: float) -> _Frame:
    minx, miny, maxx, maxy = bounds
    # A single point (or nothing) still gets a drawing a kilometre across.
    span_x, span_y = max(maxx - minx, 1000.0), max(maxy - miny, 1000.0)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    span_x, span_y = span_x * (1 + 2 * margin), span_y * (1 + 2 * margin)
    scale = width / span_x
    height = max(1, round(span_y * scale))
    return _Frame(cx - span_x / 2, cy + span_y / 2, scale, width, height)


def _numbers(points: np.ndarray) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _path(geom: BaseGeometry, frame: _Frame) -> str:
    """The `d` of a path for lines and polygons: each ring or line a subpath."""
    parts: list[str] = []
    for part in getattr(geom, "geoms", [geom]):
        if part.geom_type == "Polygon":
            for ring in (part.exterior, *part.interiors):
                pts = frame.pixels(shapely.get_coordinates(ring))
                parts.append(f"M{_numbers(pts[:1])}L{_numbers(pts[1:-1])}Z")
        elif part.geom_type == "LineString":
            pts = frame.pixels(shapely.get_coordinates(part))
            parts.append(f"M{_numbers(pts[:1])}L{_numbers(pts[1:])}")
        else:
            parts.append(_path(part, frame))  # a collection inside a collection
    return "".join(parts)


def _paint(st: Style) -> str:
    rule = ' fill-rule="evenodd"' if st.fill != "none" else ""
    return (
        f'fill="{st.fill}" fill-opacity="{st.opacity:g}" stroke="{st.stroke}" '
        f'stroke-width="{st.width:g}"{rule} stroke-linejoin="round" stroke-linecap="round"'
    )


def _d(s: Shape, frame: _Frame, tolerance: float) -> str:
    """The `d` of one shape: its lines and rings, and each point as a circle of two arcs."""
    geom = s.geometry
    parts = list(getattr(geom, "geoms", [geom]))
    r = s.style.radius
    out: list[str] = []
    for p in (p for p in parts if p.geom_type == "Point"):
        ((x, y),) = frame.pixels(shapely.get_coordinates(p))
        out.append(
            f"M{x - r:.1f},{y:.1f}a{r:g},{r:g} 0 1,0 {2 * r:g},0a{r:g},{r:g} 0 1,0 {-2 * r:g},0Z"
        )
    others = [p for p in parts if p.geom_type != "Point"]
    if others:
        rest = shapely.GeometryCollection(others) if len(others) > 1 else others[0]
        if tolerance > 0:
            rest = rest.simplify(tolerance, preserve_topology=True)
        out.append(_path(rest, frame))
    return "".join(out)


def _shapes(shapes: Sequence[Shape], frame: _Frame, tolerance: float, merge: bool) -> str:
    """The shapes as SVG paths: one per shape with its title (a browser shows it on hover), or,
    merged, one per style (a PDF renderer draws one path of a thousand dots in the time it takes
    for a handful of elements)."""
    if not merge:
        out = []
        for s in shapes:
            title = f"<title>{escape(s.title)}</title>" if s.title else ""
            d = _d(s, frame, tolerance)
            if d:
                out.append(f'<path d="{d}" {_paint(s.style)}>{title}</path>')
        return "".join(out)
    by_style: dict[Style, list[str]] = {}
    for s in shapes:
        d = _d(s, frame, tolerance)
        if d:
            by_style.setdefault(s.style, []).append(d)
    return "".join(f'<path d="{"".join(ds)}" {_paint(st)}/>' for st, ds in by_style.items())


def _label(s: Shape, frame: _Frame, size: float) -> str:
    if not s.label or s.geometry.is_empty:
        return ""
    ((x, y),) = frame.pixels(shapely.get_coordinates(s.geometry.representative_point()))
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="middle" '
        f'font-family="DejaVu Sans, sans-serif" fill="#555555">{escape(s.label)}</text>'
    )


def bounds_of(layers: Iterable[Layer]) -> tuple[float, float, float, float] | None:
    geoms = [s.geometry for layer in layers for s in layer.shapes if not s.geometry.is_empty]
    if not geoms:
        return None
    b = shapely.total_bounds(geoms)
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def draw(
    layers: Sequence[Layer],
    *,
    width: int = 800,
    extent: tuple[float, float, float, float] | None = None,
    margin: float = 0.03,
    label_size: float = 9.0,
    title: str | None = None,
    merge: bool = False,
) -> str:
    """The layers as one SVG document, the first underneath; framed on `extent` (Lambert 72
    metres), by default on everything drawn. Shapes are simplified to a third of a pixel, which
    no eye tells apart and which keeps a region's outline to a few kilobytes. `merge`: one
    path per style and layer, without the shapes' titles (for print)."""
    extent = extent or bounds_of(layers) or (140000.0, 165000.0, 160000.0, 180000.0)
    frame = _frame(extent, width, margin)
    tolerance = 0.33 / frame.scale
    body: list[str] = []
    for layer in layers:
        shapes = _shapes(layer.shapes, frame, tolerance, merge)
        labels = "".join(_label(s, frame, label_size) for s in layer.shapes)
        body.append(f'<g class="{escape(layer.name)}">{shapes}{labels}</g>')
    heading = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{frame.width}" height="{frame.height}" '
        f'viewBox="0 0 {frame.width} {frame.height}" role="img">{heading}'
        f'<rect width="100%" height="100%" fill="#f7f9fc"/>{"".join(body)}</svg>'
    )
