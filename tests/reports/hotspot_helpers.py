"""Hotspots, incidents, measures, notes and tasks made through the API for the hotspot tests:
each hotspot at its own random spot, so that no other test's incidents fall inside it."""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx

from tests.samples import feature, point, square

HALF = 0.0004  # about 30 m east-west, 45 m north-south


def spot() -> tuple[float, float]:
    # Inside the region, away from the places other tests use (Grand-Place, Palais royal).
    return 4.26 + random.random() * 0.05, 50.80 + random.random() * 0.03


def created(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 201, r.text
    return dict(r.json())


async def hotspot(
    client: httpx.AsyncClient, title: str | None = None, **props: Any
) -> tuple[dict[str, Any], tuple[float, float]]:
    lon, lat = spot()
    body = feature(
        square(lon, lat, HALF),
        title=title or f"Hotspot test {uuid.uuid4().hex[:6]}",
        kind="hotspot",
        **props,
    )
    return created(await client.post("/api/zones", json=body)), (lon, lat)


async def incident(
    client: httpx.AsyncClient, where: tuple[float, float], occurred_at: str, **props: Any
) -> dict[str, Any]:
    body = feature(
        point(*where),
        title=f"Deal de rue {uuid.uuid4().hex[:6]}",
        category="public_order",
        severity="minor",
        occurred_at=occurred_at,
        **props,
    )
    return created(await client.post("/api/incidents", json=body))


async def measure(client: httpx.AsyncClient, zone_id: str, **props: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": "Interdiction de rassemblement",
        "kind": "gathering_ban",
        "legal_basis": "Art. 134sexies Nouvelle loi communale",
        "reference": f"AB-{uuid.uuid4().hex[:6]}",
        "authority": "Bourgmestre",
        "valid_from": "2025-01-01T00:00:00+01:00",
        "valid_to": "2025-07-01T00:00:00+02:00",
        "zone_ids": [zone_id],
    }
    fields.update(props)
    return created(await client.post("/api/police_measures", json=feature(None, **fields)))


async def note(client: httpx.AsyncClient, zone_id: str, **props: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": "Évaluation de la task force",
        "description": "Présence policière renforcée; le deal s'est déplacé",
        "zone_ids": [zone_id],
        "noted_at": "2025-03-20T10:00:00+01:00",
    }
    fields.update(props)
    return created(await client.post("/api/hotspot_notes", json=feature(None, **fields)))


async def task(client: httpx.AsyncClient, zone_id: str, **props: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": f"Éclairage du passage {uuid.uuid4().hex[:4]}",
        "zone_ids": [zone_id],
        "due_at": "2025-04-01T12:00:00+02:00",
    }
    fields.update(props)
    return created(await client.post("/api/tasks", json=feature(None, **fields)))
