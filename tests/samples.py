"""Valid Features of every collection, for table-driven tests."""

from __future__ import annotations

import math
from typing import Any

GRAND_PLACE = [4.3525, 50.8467]
PALAIS_ROYAL = [4.3622, 50.8417]


def square(lon: float, lat: float, d: float = 0.002) -> dict[str, Any]:
    ring = [
        [lon - d, lat - d],
        [lon + d, lat - d],
        [lon + d, lat + d],
        [lon - d, lat + d],
        [lon - d, lat - d],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def feature(geometry: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


WINDOW = {"starts_at": "2026-09-26T10:00:00+02:00", "ends_at": "2026-09-26T18:00:00+02:00"}

# collection -> (a valid Feature, a property change to PATCH, the field it changes)
SAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "incidents": (
        feature(
            point(*GRAND_PLACE), title="Incendie rue Haute", category="fire", severity="severe"
        ),
        {"status": "confirmed"},
    ),
    "events": (
        feature(
            point(4.334, 50.8957),
            title="Match au Stade Roi Baudouin",
            kind="sports_match",
            expected_attendance=40000,
            **WINDOW,
        ),
        {"status": "confirmed"},
    ),
    "demonstrations": (
        feature(
            {"type": "LineString", "coordinates": [[4.3601, 50.8603], [4.3700, 50.8440]]},
            title="Manifestation nationale",
            organiser="Front commun",
            expected_participants=5000,
            **WINDOW,
        ),
        {"authorisation": "authorised"},
    ),
    "zones": (
        feature(
            square(*PALAIS_ROYAL),
            title="Périmètre de sécurité",
            kind="security_perimeter",
            valid_from="2026-09-26T06:00:00+02:00",
            valid_to="2026-09-27T00:00:00+02:00",
        ),
        {"status": "lifted"},
    ),
    "activations": (
        feature(None, title="GCC — visite papale", level="coordination", members=["PZ 5339"]),
        {"level": "crisis_cell"},
    ),
    "logbook": (
        feature(None, title="Décision: fermeture du tunnel Louise", kind="decision"),
        {"description": "Confirmé par la police fédérale"},
    ),
}


# Outlines that cost a repair (GEOS make_valid) far more than their vertex count suggests: what a
# client could send to keep a server busy. bench/geometry_repair.py measures them.
def zigzag(vertices: int) -> dict[str, Any]:
    """A zig-zag across Brussels closed by one edge back that crosses every tooth: the issue's
    9,990-vertex polygon took 4.7 s to repair."""
    teeth = [[4.30 + i * 0.1 / vertices, 50.85 if i % 2 else 50.83] for i in range(vertices)]
    ring = [*teeth, [4.30, 50.84], teeth[0]]
    return {"type": "Polygon", "coordinates": [ring]}


def star(vertices: int) -> dict[str, Any]:
    """Vertices on a circle joined about half a turn apart: every edge crosses nearly every other
    (a 100-vertex one took 4.7 s to repair)."""
    step = vertices // 2 - 1
    while math.gcd(vertices, step) != 1:
        step -= 1
    angles = [2 * math.pi * (i * step % vertices) / vertices for i in range(vertices)]
    ring = [[4.35 + 0.02 * math.cos(a), 50.85 + 0.02 * math.sin(a)] for a in angles]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def folded(vertices: int) -> dict[str, Any]:
    """An outline folded back and forth onto one line: every edge overlaps every other (9,990
    vertices took over two minutes to repair)."""
    ring = [[4.30 + (0.01 if i % 2 else 0.0) + i * 1e-7, 50.84] for i in range(vertices)]
    return {"type": "Polygon", "coordinates": [[*ring, [4.30, 50.85], ring[0]]]}


def circle(vertices: int) -> dict[str, Any]:
    """A large valid polygon: the most vertices there are."""
    turns = [2 * math.pi * i / vertices for i in range(vertices)]
    ring = [[4.35 + 0.02 * math.cos(a), 50.85 + 0.02 * math.sin(a)] for a in turns]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def twisted_circle(vertices: int) -> dict[str, Any]:
    """The large circle with one twist (a digitising mistake): a repair that succeeds."""
    ring = circle(vertices)["coordinates"][0]
    ring[1], ring[2] = ring[2], ring[1]
    return {"type": "Polygon", "coordinates": [ring]}
