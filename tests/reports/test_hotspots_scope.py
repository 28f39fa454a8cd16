"""Hotspot fiches are SITCEN's and the Public Order service's: a partner reads only the
hotspots, incidents, measures, tasks and notes shared with it, never another partner's, and a
hotspot it may not see answers as an unknown one."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.reports.hotspot_helpers import hotspot, incident, measure, note, task
from tests.routes import blanked

A_ORG, B_ORG = "pz-5339", "pz-5340"  # the organisations of `part` and `part-b`
PERIOD = {"from": "2025-03-03", "to": "2025-03-30"}


async def _ids(client: httpx.AsyncClient) -> set[str]:
    r = await client.get("/api/hotspots", params=PERIOD)
    assert r.status_code == 200, r.text
    return {h["id"] for h in r.json()["hotspots"]}


async def test_a_partner_sees_only_what_is_shared_with_it(
    client: httpx.AsyncClient, client_for: Any
) -> None:
    marker = uuid.uuid4().hex[:8]
    a_zone, a_where = await hotspot(client, title=f"A {marker}", shared_with=[A_ORG])
    b_zone, _ = await hotspot(client, title=f"B {marker}", shared_with=[B_ORG])
    internal, _ = await hotspot(client, title=f"Interne {marker}")
    a_id = a_zone["id"]
    await incident(client, a_where, "2025-03-05T10:00:00+01:00", visibility="shared")
    await incident(client, a_where, "2025-03-06T10:00:00+01:00")  # internal
    shared_measure = await measure(client, a_id, shared_with=[A_ORG])
    await measure(client, a_id)  # internal
    b_measure = await measure(client, a_id, shared_with=[B_ORG])
    shared_note = await note(client, a_id, shared_with=[A_ORG])
    await note(client, a_id)
    a_task = await task(client, a_id, owner_organisation=A_ORG)
    b_task = await task(client, a_id, owner_organisation=B_ORG)

    mine = {a_id, b_zone["id"], internal["id"]}
    assert await _ids(client) >= mine
    full = (await client.get(f"/api/hotspots/{a_id}", params=PERIOD)).json()
    assert full["incidents"]["current"] == 2
    assert (len(full["measures"]), len(full["notes"]), len(full["tasks"])) == (3, 2, 2)

    part, part_b = client_for("part"), client_for("part-b")
    assert await _ids(part) & mine == {a_id}
    assert await _ids(part_b) & mine == {b_zone["id"]}

    seen = (await part.get(f"/api/hotspots/{a_id}", params=PERIOD)).json()
    assert seen["incidents"]["current"] == 1  # the shared incident only
    assert [m["id"] for m in seen["measures"]] == [shared_measure["id"]]
    assert [n["id"] for n in seen["notes"]] == [shared_note["id"]]
    assert [t["id"] for t in seen["tasks"]] == [a_task["id"]]
    for export in ("export.csv", "export.pdf"):
        r = await part.get(f"/api/hotspots/{a_id}/{export}", params=PERIOD)
        assert r.status_code == 200
    csv_text = (await part.get(f"/api/hotspots/{a_id}/export.csv", params=PERIOD)).text
    for hidden in (b_measure, b_task):
        assert hidden["properties"]["ref"] not in csv_text

    # B's hotspot and SITCEN's own answer A word for word as an unknown one, on every route.
    unknown = str(uuid.uuid4())
    for suffix in ("", "/export.csv", "/export.pdf"):
        for hidden_id in (b_zone["id"], internal["id"]):
            rh = await part.get(f"/api/hotspots/{hidden_id}{suffix}", params=PERIOD)
            ru = await part.get(f"/api/hotspots/{unknown}{suffix}", params=PERIOD)
            assert rh.status_code == 404
            assert blanked(rh, hidden_id) == blanked(ru, unknown)
    # The comparison, in any form, names none of them.
    for path in ("/api/hotspots", "/api/hotspots/export.csv"):
        text = (await part.get(path, params=PERIOD)).text
        assert f"B {marker}" not in text and f"Interne {marker}" not in text


async def test_who_reads_the_fiches(client_for: Any) -> None:
    for who in ("op", "coord", "off", "adm", "part"):
        assert (await client_for(who).get("/api/hotspots", params=PERIOD)).status_code == 200
    r = await client_for("dispatch-a").get("/api/hotspots", params=PERIOD)
    assert r.status_code == 403
    part = client_for("part")
    body = {"type": "Feature", "geometry": None, "properties": {"title": "x"}}
    assert (await part.post("/api/hotspot_notes", json=body)).status_code == 403
