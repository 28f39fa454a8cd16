"""Tasks of the crisis cell: a partner's SPOC sees and reports on its organisation's tasks and
nothing else, by REST and live on /ws; owners belong to the cell; bad input writes nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.cell.helpers import A_ORG, B_ORG, count, make_cell, new_task, owned
from tests.conftest import Server
from tests.realtime.conftest import feed_head, open_feed
from tests.routes import blanked
from tests.samples import SAMPLES

Clients = Callable[[str], httpx.AsyncClient]


def ids(collection: dict[str, Any]) -> set[str]:
    return {f["id"] for f in collection["features"]}


async def test_a_partner_sees_the_tasks_of_its_organisation_and_nothing_else(
    client: httpx.AsyncClient, client_for: Clients
) -> None:
    cell = await make_cell(client)
    mine = await new_task(client, cell, owner_organisation=A_ORG)
    theirs = await new_task(client, cell, owner_organisation=B_ORG)
    nobodys = await new_task(client, cell)
    part = client_for("part")
    assert mine["properties"]["shared_with"] == [A_ORG]
    assert mine["properties"]["visibility"] == "internal"

    listed = (await part.get("/api/tasks", params={"activation": cell.id})).json()
    assert ids(listed) == {mine["id"]}
    items = await part.get("/api/features/collections/tasks/items", params={"activation": cell.id})
    assert ids(items.json()) == {mine["id"]}
    for hidden in (theirs, nobodys):
        unknown = str(uuid.uuid4())
        for path in ("/api/tasks/{}", "/api/tasks/{}/history"):
            rh = await part.get(path.format(hidden["id"]))
            ru = await part.get(path.format(unknown))
            assert rh.status_code == 404
            assert blanked(rh, hidden["id"]) == blanked(ru, unknown)
    feed = (await part.get("/api/changes", params={"since": cell.head, "limit": 1000})).json()
    tasks_seen = {c["id"] for c in feed["changes"] if c["entity"] == "task"}
    assert tasks_seen == {mine["id"]}
    # Partner B sees its own.
    listed_b = (await client_for("part-b").get("/api/tasks", params={"activation": cell.id})).json()
    assert ids(listed_b) == {theirs["id"]}


async def test_a_partner_reports_the_status_of_its_own_tasks_only(
    client: httpx.AsyncClient, client_for: Clients
) -> None:
    cell = await make_cell(client)
    mine = await new_task(client, cell, owner_organisation=A_ORG)
    theirs = await new_task(client, cell, owner_organisation=B_ORG)
    part = client_for("part")
    v1 = {"If-Match": '"1"'}

    r = await part.post(
        f"/api/tasks/{mine['id']}/status",
        json={"status": "in_progress", "note": "en route"},
        headers=v1,
    )
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert (props["status"], props["status_note"], props["version"]) == (
        "in_progress",
        "en route",
        2,
    )
    assert props["updated_by"] == "part" and r.headers["ETag"] == '"2"'

    unknown = str(uuid.uuid4())
    rh = await part.post(f"/api/tasks/{theirs['id']}/status", json={"status": "done"}, headers=v1)
    ru = await part.post(f"/api/tasks/{unknown}/status", json={"status": "done"}, headers=v1)
    assert rh.status_code == 404
    assert blanked(rh, theirs["id"]) == blanked(ru, unknown)
    # Only the status: no PATCH, no cancelling (the assigner's call).
    patch = await part.patch(f"/api/tasks/{mine['id']}", json=owned(title="x"), headers=v1)
    assert patch.status_code == 403
    cancel = await part.post(
        f"/api/tasks/{mine['id']}/status", json={"status": "cancelled"}, headers={"If-Match": '"2"'}
    )
    assert cancel.status_code == 403
    done = await part.post(
        f"/api/tasks/{mine['id']}/status", json={"status": "done"}, headers={"If-Match": '"2"'}
    )
    assert done.status_code == 200
    assert done.json()["properties"]["done_at"] is not None
    assert done.json()["properties"]["status_note"] is None  # the note went with its status

    untouched = (await client.get(f"/api/tasks/{theirs['id']}")).json()["properties"]
    assert (untouched["version"], untouched["status"]) == (1, "open")


async def test_the_partner_sees_its_task_live_and_the_coordinator_sees_its_report(
    server: Server, client: httpx.AsyncClient, client_for: Clients
) -> None:
    cell = await make_cell(client)
    partner = await open_feed(server, "part", filter={"entities": ["task"]})
    staff = await open_feed(server, "coord", filter={"entities": ["task"]})
    partner.read_in_background()
    staff.read_in_background()
    try:
        theirs = await new_task(client, cell, owner_organisation=B_ORG)
        mine = await new_task(client, cell, owner_organisation=A_ORG)
        await partner.wait_for(lambda f: any(c["id"] == mine["id"] for c in f.changes))
        assert [c["id"] for c in partner.changes] == [mine["id"]], "B's task reached A"

        r = await client_for("part").post(
            f"/api/tasks/{mine['id']}/status", json={"status": "done"}, headers={"If-Match": '"1"'}
        )
        assert r.status_code == 200
        await staff.wait_for(
            lambda f: any(c["id"] == mine["id"] and c["version"] == 2 for c in f.changes)
        )
        report = next(c for c in staff.changes if c["id"] == mine["id"] and c["version"] == 2)
        assert report["by"] == "part" and report["feature"]["properties"]["status"] == "done"
        assert {c["id"] for c in staff.changes} >= {theirs["id"], mine["id"]}
    finally:
        await partner.close()
        await staff.close()


async def test_a_task_reassigned_from_a_to_b_leaves_a_by_every_path(
    server: Server, client: httpx.AsyncClient, client_for: Clients
) -> None:
    cell = await make_cell(client)
    task = await new_task(client, cell, owner_organisation=A_ORG)
    tid = task["id"]
    a = client_for("part")
    feed = await open_feed(server, "part", filter={"entities": ["task"]})
    feed.read_in_background()
    try:
        r = await client.patch(
            f"/api/tasks/{tid}", json=owned(owner_organisation=B_ORG), headers={"If-Match": '"1"'}
        )
        assert r.status_code == 200, r.text
        assert r.json()["properties"]["shared_with"] == [B_ORG]
        r = await client.patch(
            f"/api/tasks/{tid}",
            json=owned(priority="urgent", description="B's plan"),
            headers={"If-Match": '"2"'},
        )
        assert r.status_code == 200
        # A sentinel A may see, after B's versions: what A got before it is all A gets.
        sentinel = await new_task(client, cell, owner_organisation=A_ORG)
        await feed.wait_for(lambda f: any(c["id"] == sentinel["id"] for c in f.changes))
        about = [c for c in feed.changes if c["id"] == tid]
        assert [(c["op"], c["feature"]) for c in about] == [("removed", None)]
    finally:
        await feed.close()

    assert (await a.get(f"/api/tasks/{tid}")).status_code == 404
    listed = (await a.get("/api/tasks", params={"activation": cell.id})).json()
    assert tid not in ids(listed)
    history = (await a.get(f"/api/tasks/{tid}/history")).json()
    assert [c["version"] for c in history["changes"]] == [1]  # what A had; nothing of B's
    # The feed's times: when A owned it, and when B's last version was written.
    staff_history = (await client.get(f"/api/tasks/{tid}/history")).json()["changes"]
    owned_by_a, latest = staff_history[0]["at"], staff_history[-1]["at"]
    then = await a.get(f"/api/tasks/{tid}", params={"at": owned_by_a})
    assert then.status_code == 200 and then.json()["properties"]["owner_organisation"] == A_ORG
    assert (await a.get(f"/api/tasks/{tid}", params={"at": latest})).status_code == 404
    at_latest = await a.get("/api/tasks", params={"activation": cell.id, "at": latest})
    assert tid not in ids(at_latest.json())
    changes = (await a.get("/api/changes", params={"since": cell.head, "limit": 1000})).json()
    seen = [(c["op"], c.get("version"), c["feature"]) for c in changes["changes"] if c["id"] == tid]
    assert seen == [("created", 1, task), ("removed", None, None)]
    b = (await client_for("part-b").get(f"/api/tasks/{tid}")).json()["properties"]
    assert (b["priority"], b["version"]) == ("urgent", 3)


async def test_an_owner_outside_the_cell_is_refused_and_nothing_written(
    sessions: Any, client: httpx.AsyncClient
) -> None:
    cell = await make_cell(client, seats=(A_ORG,))
    other = await make_cell(client)
    head = await feed_head(sessions)
    cases = {
        "owner_organisation": {"owner_organisation": B_ORG},  # B holds no seat in this cell
        "owner_position_id": {"owner_position_id": other.seats[A_ORG]},
        "owner_user": {"owner_user": f"nobody-{uuid.uuid4().hex[:6]}"},
    }
    for field, props in cases.items():
        r = await client.post("/api/tasks", json=owned(cell=cell, title="Hors cellule", **props))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["loc"] for e in r.json()["errors"]] == [["body", "properties", field]]
    task = await new_task(client, cell, owner_organisation=A_ORG)
    r = await client.patch(
        f"/api/tasks/{task['id']}",
        json=owned(owner_organisation=B_ORG),
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "properties", "owner_organisation"]
    assert await count(client, cell) == 1
    assert await feed_head(sessions) == head + 1  # the one task created, nothing else
    ok = await new_task(client, cell, owner_position_id=cell.seats[A_ORG], owner_user="coord")
    assert ok["properties"]["owner_user"] == "coord"


@pytest.mark.parametrize(
    ("props", "field"),
    [
        ({"zone_ids": [str(uuid.uuid4())]}, "zone_ids"),
        ({"status": "blocked"}, "blocked_reason"),
        ({"blocked_reason": "pas de clé"}, "blocked_reason"),
        ({"priority": "very_high"}, "priority"),
        ({"status": "done"}, "status"),  # a task starts open, in progress or blocked
        ({"visibility": "shared"}, "visibility"),
        ({"shared_with": [A_ORG]}, "shared_with"),
        ({"subject_entity": "incident", "subject_id": str(uuid.uuid4())}, "subject_id"),
        ({"due_at": "2026-12-07T10:00:00"}, "due_at"),  # no timezone
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_nothing_written(
    sessions: Any, client: httpx.AsyncClient, props: dict[str, Any], field: str
) -> None:
    cell = await make_cell(client)
    head = await feed_head(sessions)
    r = await client.post("/api/tasks", json=owned(cell=cell, title="Mauvaise", **props))
    assert r.status_code == 422, r.text
    assert field in [e["loc"][2] for e in r.json()["errors"]], r.text
    assert await count(client, cell) == 0
    assert await feed_head(sessions) == head


async def test_status_reports_follow_the_rules_and_write_nothing_when_refused(
    client: httpx.AsyncClient, client_for: Clients
) -> None:
    cell = await make_cell(client)
    task = await new_task(client, cell, owner_organisation=A_ORG)
    part = client_for("part")
    url = f"/api/tasks/{task['id']}/status"
    no_reason = await part.post(url, json={"status": "blocked"}, headers={"If-Match": '"1"'})
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["loc"] == ["body", "properties", "blocked_reason"]
    assert (await part.post(url, json={"status": "blocked"})).status_code == 428
    bad = await part.post(url, json={"status": "paused"}, headers={"If-Match": '"1"'})
    assert bad.status_code == 422
    blocked = await part.post(
        url,
        json={"status": "blocked", "blocked_reason": "accès fermé"},
        headers={"If-Match": '"1"'},
    )
    assert blocked.status_code == 200
    assert blocked.json()["properties"]["blocked_reason"] == "accès fermé"
    going = await part.post(url, json={"status": "in_progress"}, headers={"If-Match": '"2"'})
    assert going.json()["properties"]["blocked_reason"] is None  # the reason went with the block
    cancelled = await client.patch(
        f"/api/tasks/{task['id']}", json=owned(status="cancelled"), headers={"If-Match": '"3"'}
    )
    assert cancelled.status_code == 200
    done = await part.post(url, json={"status": "done"}, headers={"If-Match": '"4"'})
    assert done.status_code == 409
    assert done.json()["allowed"] == ["open"]
    assert (await client.get(f"/api/tasks/{task['id']}")).json()["properties"]["version"] == 4


async def test_concurrent_status_reports_one_succeeds_the_other_is_told_it_is_stale(
    client: httpx.AsyncClient, client_for: Clients
) -> None:
    cell = await make_cell(client)
    task = await new_task(client, cell, owner_organisation=A_ORG)
    url = f"/api/tasks/{task['id']}/status"
    agents = (client_for("part"), client_for("op"))
    answers = await asyncio.gather(
        agents[0].post(url, json={"status": "done"}, headers={"If-Match": '"1"'}),
        agents[1].post(
            url, json={"status": "blocked", "blocked_reason": "x"}, headers={"If-Match": '"1"'}
        ),
    )
    assert sorted(r.status_code for r in answers) == [200, 412]
    winner = next(r for r in answers if r.status_code == 200)
    stale = next(r for r in answers if r.status_code == 412)
    assert stale.json()["current"]["properties"] == winner.json()["properties"]
    history = (await client.get(f"/api/tasks/{task['id']}/history")).json()
    assert [c["version"] for c in history["changes"]] == [1, 2]


async def test_the_board_lists_a_cells_tasks_by_status_and_due_time(
    client: httpx.AsyncClient,
) -> None:
    cell = await make_cell(client)
    soon = await new_task(client, cell, due_at="2036-01-01T10:00:00+01:00")
    await new_task(client, cell, due_at="2037-01-01T10:00:00+01:00")
    params = {"activation": cell.id, "status": "open", "end": "2036-06-01T00:00:00Z"}
    assert ids((await client.get("/api/tasks", params=params)).json()) == {soon["id"]}


async def test_a_task_links_its_subject_and_zones(client: httpx.AsyncClient) -> None:
    cell = await make_cell(client)
    zone = (await client.post("/api/zones", json=SAMPLES["zones"][0])).json()["id"]
    incident = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()["id"]
    task = await new_task(
        client,
        cell,
        subject_entity="incident",
        subject_id=incident,
        zone_ids=[zone, zone],
    )
    props = task["properties"]
    assert (props["subject_id"], props["zone_ids"]) == (incident, [zone])
    stored = (await client.get(f"/api/tasks/{task['id']}")).json()["properties"]
    assert stored["zone_ids"] == [zone]
    assert ids((await client.get("/api/tasks", params={"subject": incident})).json()) == {
        task["id"]
    }
