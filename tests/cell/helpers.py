"""Building a crisis cell through the API: an activation, seats held by partner organisations,
and tasks in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.samples import SAMPLES, feature

A_ORG, B_ORG = "pz-5339", "pz-5340"  # the organisations of users part and part-b


@dataclass
class Cell:
    id: str
    head: int  # the feed's head before the cell was made
    seats: dict[str, str] = field(default_factory=dict)  # organisation -> its position's id


async def make_cell(client: httpx.AsyncClient, seats: tuple[str, ...] = (A_ORG, B_ORG)) -> Cell:
    """An activation whose cell has a liaison position held by each organisation of `seats`."""
    head = (await client.get("/api/changes", params={"limit": 1})).json()["head"]
    r = await client.post("/api/activations", json=SAMPLES["activations"][0])
    assert r.status_code == 201, r.text
    cell = Cell(r.json()["id"], head)
    for org in seats:
        seat = feature(
            None,
            title=f"Liaison {org}",
            activation_id=cell.id,
            role="partner_liaison",
            holder_organisation=org,
        )
        r = await client.post("/api/positions", json=seat)
        assert r.status_code == 201, r.text
        cell.seats[org] = r.json()["id"]
    return cell


def owned(cell: Cell | None = None, **props: Any) -> dict[str, Any]:
    """A task Feature (or a PATCH of one) with these properties, in `cell` if given."""
    if cell is not None:
        props = {"activation_id": cell.id, **props}
    return feature(None, **props)


async def new_task(client: httpx.AsyncClient, cell: Cell, **props: Any) -> dict[str, Any]:
    body = owned(cell, title=props.pop("title", "Dévier les bus de la ligne 71"), **props)
    r = await client.post("/api/tasks", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def count(client: httpx.AsyncClient, cell: Cell) -> int:
    listed = (await client.get("/api/tasks", params={"activation": cell.id})).json()
    return len(listed["features"])
