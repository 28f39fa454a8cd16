"""What the tests of the cell's records (decisions, logbooks) build first: an activation, and
the seats of its cell held by the test users."""

from __future__ import annotations

from typing import Any

import httpx

from tests.samples import SAMPLES, feature


async def open_activation(client: httpx.AsyncClient) -> str:
    r = await client.post("/api/activations", json=SAMPLES["activations"][0])
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def seat(
    client: httpx.AsyncClient, activation: str, role: str, holder: str | None = None
) -> str:
    """A position of the activation's cell, held by the user named."""
    body = feature(None, title=f"{role} seat", activation_id=activation, role=role)
    if holder is not None:
        body["properties"]["holder_user"] = holder
    r = await client.post("/api/positions", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def head(client: httpx.AsyncClient) -> int:
    """The change feed's head: what a refused write must leave as it was."""
    return int((await client.get("/api/changes", params={"limit": 1})).json()["head"])


def props(r: httpx.Response, status: int = 201) -> dict[str, Any]:
    """The answered Feature's id and properties, in one mapping."""
    assert r.status_code == status, r.text
    return {"id": r.json()["id"], **r.json()["properties"]}
