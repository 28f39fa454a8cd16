"""Overdue tasks escalate through alerting, once per due time: an alert to the owner
organisation (live on its SPOC's /ws) that SITCEN's staff see live too."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.alerts.settings import get_alert_settings
from app.cell.overdue import escalate_overdue
from app.db import transaction
from tests.cell.helpers import make_cell, new_task, owned
from tests.conftest import PASSWORD, Server, eventually, start_server, stop_server
from tests.realtime.conftest import Feed, open_feed, token_for

Clients = Callable[[str], httpx.AsyncClient]


@pytest.fixture(scope="module")
def watchful(settings: Any, server: Server) -> Iterator[Server]:
    """An instance that looks for overdue tasks five times a second (beside the session's,
    which looks every 30 s: either may escalate a task, and only one does)."""
    srv = start_server(settings, None, {"SITCEN_TASK_OVERDUE_POLL_SECONDS": "0.2"}, "overdue")
    yield srv
    stop_server(srv)


async def new_partner(client_for: Clients) -> tuple[str, str]:
    """A partner organisation of this test's own and its SPOC's user name: the alerts it gets
    reach no other test's partners."""
    code = f"t-cell-{uuid.uuid4().hex[:8]}"
    admin = client_for("adm")
    r = await admin.post(
        "/api/organisations",
        json={"code": code, "name_fr": "Cellule test", "name_nl": "Testcel", "kind": "other"},
    )
    assert r.status_code == 201, r.text
    user = f"spoc-{code}"
    r = await admin.post(
        "/api/users",
        json={"username": user, "password": PASSWORD, "role": "partner", "organisation": code},
    )
    assert r.status_code == 201, r.text
    return code, user


def alerts_about(feed: Feed, task_id: str) -> list[dict[str, Any]]:
    return [
        m["alert"]
        for m in feed.messages
        if m["type"] == "alert" and m["alert"]["entity_id"] == task_id
    ]


def ago(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


async def test_an_overdue_task_is_escalated_once_to_its_owner_and_to_sitcen(
    watchful: Server, client: httpx.AsyncClient, client_for: Clients, sessions: Any
) -> None:
    org, spoc = await new_partner(client_for)
    cell = await make_cell(client, seats=(org,))
    partner = await open_feed(watchful, spoc)
    staff = await open_feed(watchful, "op")
    partner.read_in_background()
    staff.read_in_background()
    try:
        blocked = await new_task(
            client,
            cell,
            owner_organisation=org,
            due_at=ago(30),
            status="blocked",
            blocked_reason="en attente du parquet",
        )
        task = await new_task(
            client, cell, owner_organisation=org, due_at=ago(5), priority="urgent"
        )
        tid = task["id"]
        await partner.wait_for(lambda f: bool(alerts_about(f, tid)))
        await staff.wait_for(lambda f: bool(alerts_about(f, tid)))
        (alert,) = alerts_about(partner, tid)
        assert (alert["origin"], alert["severity"], alert["entity_ref"]) == (
            "overdue_task",
            "Extreme",
            task["properties"]["ref"],
        )
        assert alert["texts"]["fr"]["headline"].startswith("Tâche en retard")
        assert alert["texts"]["nl"]["headline"].startswith("Taak over tijd")

        # Recorded: looking again escalates nothing more for it.
        async with transaction(sessions) as session:
            again = await escalate_overdue(session, get_alert_settings(), datetime.now(UTC))
        assert tid not in {str(e.task_id) for e in again}

        # A new due time, missed again, is escalated again; the blocked task never was.
        r = await client.patch(
            f"/api/tasks/{tid}", json=owned(due_at=ago(1)), headers={"If-Match": '"1"'}
        )
        assert r.status_code == 200, r.text
        await partner.wait_for(lambda f: len(alerts_about(f, tid)) == 2)
        assert alerts_about(partner, blocked["id"]) == []
    finally:
        await partner.close()
        await staff.close()

    listed = (await client.get("/api/alerts", params={"origin": "overdue_task"})).json()
    about = [a for a in listed["alerts"] if a["entity_id"] in (tid, blocked["id"])]
    assert [a["entity_id"] for a in about] == [tid, tid]
    assert [r["organisation"] for r in about[0]["recipients"]] == [org]
    # The SPOC acknowledges it as any alert: the escalation to its next SPOC stops.
    spoc_client = httpx.AsyncClient(
        base_url=watchful.url,
        headers={"Authorization": f"Bearer {await token_for(watchful, spoc)}"},
    )
    async with spoc_client:
        ack = await spoc_client.post(f"/api/alerts/{about[0]['id']}/ack", json={})
    assert ack.status_code == 200, ack.text


async def test_a_task_owned_by_no_organisation_is_escalated_to_sitcen_alone(
    watchful: Server, client: httpx.AsyncClient
) -> None:
    cell = await make_cell(client, seats=())
    staff = await open_feed(watchful, "coord")
    staff.read_in_background()
    try:
        task = await new_task(client, cell, owner_user="op", due_at=ago(2))
        await staff.wait_for(lambda f: bool(alerts_about(f, task["id"])))
        (alert,) = alerts_about(staff, task["id"])
        assert alert["severity"] == "Moderate"  # a task of normal priority
    finally:
        await staff.close()
    listed = (await client.get("/api/alerts", params={"origin": "overdue_task"})).json()
    (stored,) = [a for a in listed["alerts"] if a["entity_id"] == task["id"]]
    assert stored["recipients"] == []


async def test_a_task_that_cannot_be_escalated_is_set_aside_and_the_others_still_are(
    watchful: Server, client: httpx.AsyncClient, client_for: Clients, sessions: Any
) -> None:
    cell = await make_cell(client, seats=())
    poisoned = await new_task(client, cell, title="Empoisonnée")
    # Its owner vanishes under it (written past the API, which would refuse it): the alert's
    # recipient names no organisation, and every attempt to escalate it fails.
    async with transaction(sessions) as session:
        await session.execute(
            text("UPDATE tasks SET owner_organisation = 't-gone', due_at = now() WHERE id = :id"),
            {"id": poisoned["id"]},
        )
    healthy = await new_task(client, cell, title="Saine", due_at=ago(1))

    async def escalated(task_id: str) -> Any:
        async with sessions() as session:
            return (
                await session.execute(
                    text("SELECT alert_id FROM task_escalations WHERE task_id = :id"),
                    {"id": task_id},
                )
            ).first()

    set_aside = await eventually(lambda: escalated(poisoned["id"]), "the poisoned task set aside")
    assert set_aside.alert_id is None
    done = await eventually(lambda: escalated(healthy["id"]), "the healthy task escalated")
    assert done.alert_id is not None
    health = (await client_for("adm").get("/api/alerts/health")).json()
    items = [d["item"] for d in health["dead_letters"]["latest"]]
    assert any(poisoned["id"] in item for item in items), items
