"""A generated planning picture (events, demonstrations, zones with random shapes, windows,
statuses and parents) and the brute-force check the conflicts join must agree with: Shapely
and plain interval arithmetic over every pair, in Python."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from tests.samples import feature

# A 2 km square around the Mont des Arts: dense enough that many shapes meet.
WEST, SOUTH, SIZE = 4.345, 50.838, 0.02
ZONE_KINDS = [
    ("security_perimeter", "area"),
    ("red_zone", "area"),
    ("drone_ban", "area"),
    ("traffic_restriction", "area"),
    ("traffic_restriction", "line"),
    ("route", "line"),
    ("assembly_point", "point"),
    ("staging_area", "area"),
    ("first_aid_post", "point"),
    ("hotspot", "area"),
]
EVENT_KINDS = ["mass_event", "festival", "sports_match", "summit", "official_visit"]
TO_LAMBERT = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True).transform


@dataclass
class Planned:
    entity: str
    body: dict[str, Any]
    id: str = ""
    # A status no object is created with (cancelled): PATCHed once it exists.
    later: dict[str, Any] | None = None

    @property
    def props(self) -> dict[str, Any]:
        return dict(self.body["properties"])

    @property
    def geometry(self) -> BaseGeometry:
        return shape(self.body["geometry"])

    def window(self) -> tuple[datetime | None, datetime | None]:
        p = self.props
        if self.entity == "zone":
            start, end = p.get("valid_from"), p.get("valid_to")
        else:
            start, end = p["starts_at"], p["ends_at"]
        return (
            datetime.fromisoformat(start) if start else None,
            datetime.fromisoformat(end) if end else None,
        )

    def live(self) -> bool:
        p = self.props | (self.later or {})
        if self.entity == "zone":
            return p.get("status", "active") == "active" and p["kind"] != "hotspot"
        if p.get("status", "planned") in ("ended", "cancelled"):
            return False
        return not (self.entity == "demonstration" and p.get("authorisation") == "refused")


def _point(rng: random.Random) -> tuple[float, float]:
    return WEST + rng.random() * SIZE, SOUTH + rng.random() * SIZE * 0.64


def _area(rng: random.Random) -> dict[str, Any]:
    lon, lat = _point(rng)
    w, h = 0.0005 + rng.random() * 0.004, 0.0003 + rng.random() * 0.0025
    if rng.random() < 0.3:  # a triangle, not only boxes
        ring = [[lon, lat], [lon + w, lat], [lon + w / 2, lat + h], [lon, lat]]
    else:
        ring = [[lon, lat], [lon + w, lat], [lon + w, lat + h], [lon, lat + h], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _line(rng: random.Random) -> dict[str, Any]:
    points = [list(_point(rng))]
    for _ in range(rng.randint(1, 4)):
        lon, lat = points[-1]
        points.append([lon + rng.uniform(-0.004, 0.004), lat + rng.uniform(-0.003, 0.003)])
    return {"type": "LineString", "coordinates": points}


def _geometry(rng: random.Random, shape_kind: str) -> dict[str, Any]:
    if shape_kind == "point":
        return {"type": "Point", "coordinates": list(_point(rng))}
    return _line(rng) if shape_kind == "line" else _area(rng)


def _window(rng: random.Random, base: datetime) -> tuple[datetime, datetime]:
    start = base + timedelta(hours=rng.randint(0, 24 * 10))
    return start, start + timedelta(hours=rng.randint(1, 48))


def generate(
    seed: int, base: datetime, n: int = 100, marker: str = ""
) -> tuple[list[Planned], list[Planned], list[Planned]]:
    """n planned events, n demonstrations, n zones (some of an event or a demonstration, some
    without an end, some lifted, some hotspots), all flagged exercise so that only each other
    can conflict with them; the zones' parents are filled in as ids once those exist."""
    rng = random.Random(seed)
    events, demonstrations, zones = [], [], []
    for i in range(n):
        start, end = _window(rng, base)
        status = rng.choices(["planned", "confirmed", "cancelled"], [6, 3, 1])[0]
        later = {"status": status} if status == "cancelled" else None
        events.append(
            Planned(
                "planned_event",
                feature(
                    _area(rng) if rng.random() < 0.8 else _geometry(rng, "point"),
                    title=f"{marker} event {i}",
                    kind=rng.choice(EVENT_KINDS),
                    status="planned" if later else status,
                    starts_at=start.isoformat(),
                    ends_at=end.isoformat(),
                    exercise=True,
                ),
                later=later,
            )
        )
    for i in range(n):
        start, end = _window(rng, base)
        geometry = _geometry(rng, rng.choice(["point", "line", "line", "area"]))
        demonstrations.append(
            Planned(
                "demonstration",
                feature(
                    geometry,
                    title=f"{marker} demonstration {i}",
                    authorisation=rng.choices(["requested", "authorised", "refused"], [3, 6, 1])[0],
                    starts_at=start.isoformat(),
                    ends_at=end.isoformat(),
                    exercise=True,
                ),
            )
        )
    for i in range(n):
        kind, shape_kind = rng.choice(ZONE_KINDS)
        start, end = _window(rng, base)
        props: dict[str, Any] = {
            "title": f"{marker} zone {i}",
            "kind": kind,
            "exercise": True,
            "valid_from": start.isoformat(),
            "valid_to": None if rng.random() < 0.15 else end.isoformat(),
        }
        if rng.random() < 0.1:
            props["status"] = "lifted"
        # Some belong to an event or a demonstration: set once the parents exist.
        parent = rng.random()
        if parent < 0.2:
            props["parent_entity"], props["parent_id"] = "planned_event", rng.randrange(n)
        elif parent < 0.3:
            props["parent_entity"], props["parent_id"] = "demonstration", rng.randrange(n)
        zones.append(Planned("zone", feature(_geometry(rng, shape_kind), **props)))
    return events, demonstrations, zones


def _lambert(xy: np.ndarray) -> np.ndarray:
    return np.column_stack(TO_LAMBERT(xy[:, 0], xy[:, 1]))


def expected(objects: list[Planned]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every conflict by brute force: (smaller id, larger id) → overlap interval and area."""
    live = [o for o in objects if o.live()]
    shapes = {o.id: o.geometry for o in live}
    found = {}
    for a, b in itertools.combinations(live, 2):
        pa, pb = a.props, b.props
        if pa.get("parent_id") == b.id or pb.get("parent_id") == a.id:
            continue
        if pa.get("parent_id") and pa.get("parent_id") == pb.get("parent_id"):
            continue
        (sa, ea), (sb, eb) = a.window(), b.window()
        lo = max((t for t in (sa, sb) if t), default=None)
        hi = min((t for t in (ea, eb) if t), default=None)
        if lo is not None and hi is not None and not lo < hi:
            continue
        ga, gb = shapes[a.id], shapes[b.id]
        if not ga.intersects(gb) or ga.touches(gb):
            continue
        overlap = ga.intersection(gb)
        areal = [g for g in getattr(overlap, "geoms", [overlap]) if g.geom_type.endswith("Polygon")]
        area = sum(shapely.transform(g, _lambert).area for g in areal)
        key = (a.id, b.id) if a.id < b.id else (b.id, a.id)
        found[key] = {"from": lo, "to": hi, "area_m2": area}
    return found


def utc(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


def shape_of(geojson: dict[str, Any]) -> BaseGeometry:
    return shapely.geometry.shape(geojson)
