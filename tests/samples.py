"""Valid Features of every collection, for table-driven tests."""

from __future__ import annotations

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
