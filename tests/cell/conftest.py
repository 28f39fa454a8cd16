"""Crisis cell test helpers: activations opened and seats filled through the API. Alerting's
harness (an SMTP inbox, partner organisations made per test) is imported, with the settings it
gives every server of the session."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.alerts.conftest import inbox, make_partner, receiver
from tests.realtime.conftest import open_feed

__all__ = ["head", "inbox", "make_partner", "open_activation", "open_feed", "receiver", "seat"]


async def head(client: httpx.AsyncClient) -> int:
    """The change feed's head: unchanged when a refused request wrote nothing."""
    r = await client.get("/api/changes", params={"limit": 1})
    assert r.status_code == 200, r.text
    return int(r.json()["head"])


async def open_activation(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"title": f"GCC test {uuid.uuid4().hex[:6]}", "level": "coordination", **fields}
    r = await client.post("/api/activations/open", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def seat(
    client: httpx.AsyncClient, activation_id: str, role: str = "partner_liaison", **props: Any
) -> dict[str, Any]:
    body = {
        "type": "Feature",
        "geometry": None,
        "properties": {"title": f"Seat {role}", "activation_id": activation_id, "role": role}
        | props,
    }
    r = await client.post("/api/positions", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())
