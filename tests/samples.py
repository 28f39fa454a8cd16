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


# Stands, in a sample, for the id of a GCC activation the test creates first (`linked`): the
# crisis cell's objects (positions, tasks…) belong to one.
ACTIVATION = "<an activation>"


def needs_activation(body: dict[str, Any]) -> bool:
    return ACTIVATION in body["properties"].values()


def linked(body: dict[str, Any], activation_id: str) -> dict[str, Any]:
    """A copy of `body` with the activation stand-in replaced by `activation_id`."""
    props = {k: activation_id if v == ACTIVATION else v for k, v in body["properties"].items()}
    return {**body, "properties": props}


WINDOW = {"starts_at": "2026-09-26T10:00:00+02:00", "ends_at": "2026-09-26T18:00:00+02:00"}
WINDOW_ENTRY = {"from": WINDOW["starts_at"], "to": WINDOW["ends_at"]}

# collection -> (a valid Feature, a property change to PATCH; for a collection written once
# (decisions, logbook), the change its refused PATCH tries)
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
    "positions": (
        feature(None, title="D3 — police", activation_id=ACTIVATION, role="d3"),
        {"presence": "present"},
    ),
    # Owned by no organisation: an owner must hold a position in the cell (tests/cell).
    "tasks": (
        feature(
            None,
            title="Fermer le tunnel Louise",
            activation_id=ACTIVATION,
            priority="high",
            due_at="2036-09-26T14:00:00+02:00",
        ),
        {"status": "in_progress"},
    ),
    "decisions": (
        feature(
            None,
            title="Fermeture du tunnel Louise",
            activation_id=ACTIVATION,
            decided_by_name="Haut fonctionnaire de garde",
            basis="Avis D1 et D3: fumée dans le tunnel",
            discipline="d3",
        ),
        {"basis": "Avis D1 seul"},
    ),
    "plans": (
        feature(
            square(4.334, 50.8957),
            title="PPUI Stade Roi Baudouin",
            kind="special",
            review_due="2027-06-30T00:00:00+02:00",
        ),
        {"status": "in_force"},
    ),
    "checklists": (
        feature(
            None,
            title="Accueil de la cellule",
            activation_id=ACTIVATION,
            items=[
                {
                    "key": "badges",
                    "text": {
                        "fr": "Distribuer les badges",
                        "nl": "Badges uitdelen",
                        "en": "Hand out badges",
                    },
                }
            ],
        ),
        {"description": "Salle de crise, 3e étage"},
    ),
    "fiches": (
        feature(
            None,
            title="Fiche opérationnelle — visite papale",
            activation_id=ACTIVATION,
            entries=[
                {
                    "organisation": "pz-5339",
                    "discipline": "d3",
                    "role": "Sécurisation du parcours",
                    "responsibilities": "Périmètres, escorte, régulation du trafic",
                    "phone": "+32 2 279 79 79",
                    "radio_talkgroup": "ASTRID PZ5339-OPS",
                    **WINDOW_ENTRY,
                }
            ],
        ),
        {"language": "nl"},
    ),
    # Generated from the picture (POST /api/sitreps takes what to report on, not the report).
    "sitreps": (
        feature(None, title="SITREP — test", activation_id=ACTIVATION, summary="Calme"),
        {"summary": "Situation sous contrôle"},
    ),
    "police_measures": (
        feature(
            None,
            title="Interdiction de rassemblement — place Clemenceau",
            kind="mayor_order",
            legal_basis="Art. 134sexies Nouvelle loi communale",
            reference="AB-2026-117",
            authority="Bourgmestre d'Anderlecht",
            valid_from="2026-06-01T00:00:00+02:00",
            valid_to="2026-12-01T00:00:00+01:00",
        ),
        {"status": "revoked"},
    ),
    "hotspot_notes": (
        feature(
            None,
            title="Évaluation trimestrielle de la task force",
            description="Déplacement du deal vers la rue voisine après les contrôles",
        ),
        {"description": "Corrigé"},
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
