"""Standard procedures as checklists: templates kept by admins, started by what happens (an
incident of a category and severity, an activation, a planned event of a kind) or by hand,
exactly once per template and subject; items ticked with who and when, not applicable with a
reason, and two agents ticking the same item at once: one succeeds, the other is told who was
first."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.cell.procedures import Triggers, start_checklist, started_by
from app.db import transaction
from app.domain.actor import Actor
from tests.conftest import eventually, incident, written_since
from tests.samples import SAMPLES, WINDOW, feature, point

Sessions = async_sessionmaker[AsyncSession]


async def caught_up(sessions: Sessions) -> None:
    """Wait until the procedures' starter has read every change written so far."""

    async def check() -> bool:
        async with sessions() as session:
            head, cursor = (
                await session.execute(
                    text(
                        "SELECT f.seq, c.seq FROM feed_counter f, feed_cursors c"
                        " WHERE f.id = 1 AND c.name = 'procedures'"
                    )
                )
            ).one()
        return bool(cursor >= head)

    await eventually(check, "the procedures' starter to reach the feed head")


async def checklists_of(client: httpx.AsyncClient, subject: str) -> list[dict[str, Any]]:
    r = await client.get("/api/checklists", params={"subject": subject, "limit": 100})
    assert r.status_code == 200, r.text
    return list(r.json()["features"])


async def created(r: Any) -> dict[str, Any]:
    response = await r
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_tunnel_fire_starts_the_tunnel_fire_checklist_exactly_once(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    fire = await created(
        client.post(
            "/api/incidents",
            json=incident("Incendie dans le tunnel Léopold II", severity="severe"),
        )
    )
    found = await eventually(lambda: checklists_of(client, fire["id"]), "the tunnel checklist")
    (checklist,) = found
    props = checklist["properties"]
    assert props["template_code"] == "tunnel_fire"
    assert props["subject_entity"] == "incident" and props["subject_id"] == fire["id"]
    assert props["status"] == "open" and props["done"] == 0 and props["total"] == 7
    assert props["created_by"] == "system:procedures"
    first = props["items"][0]
    assert first["state"] == "open" and first["by"] is None
    assert first["text"]["nl"].startswith("Inzet van de DBDMH")

    # Raised again, and started by hand: still the one checklist.
    r = await client.patch(
        f"/api/incidents/{fire['id']}",
        json={"type": "Feature", "properties": {"severity": "extreme"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    by_hand = await client.post(
        "/api/procedures/tunnel_fire/start",
        json={"subject_entity": "incident", "subject_id": fire["id"]},
    )
    assert by_hand.status_code == 200, by_hand.text
    assert by_hand.json()["id"] == checklist["id"]
    await caught_up(sessions)
    assert [c["id"] for c in await checklists_of(client, fire["id"])] == [checklist["id"]]


async def test_a_fire_elsewhere_does_not_start_the_tunnel_procedure(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    fire = await created(
        client.post("/api/incidents", json=incident("Incendie rue Haute", severity="extreme"))
    )
    await caught_up(sessions)
    assert await checklists_of(client, fire["id"]) == []


async def test_raising_an_incident_to_the_trigger_severity_starts_its_procedure(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    flood = await created(
        client.post(
            "/api/incidents",
            json=incident("Rue inondée à Anderlecht", category="flooding_storm"),
        )
    )
    await caught_up(sessions)
    assert await checklists_of(client, flood["id"]) == []  # moderate: below the trigger
    r = await client.patch(
        f"/api/incidents/{flood['id']}",
        json={"type": "Feature", "properties": {"severity": "severe"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200
    (checklist,) = await eventually(lambda: checklists_of(client, flood["id"]), "the flooding one")
    assert checklist["properties"]["template_code"] == "flooding"


async def test_a_papal_visit_starts_the_official_visit_procedure(
    client: httpx.AsyncClient,
) -> None:
    visit = await created(
        client.post(
            "/api/events",
            json=feature(
                point(4.3622, 50.8417),
                title="Visite du pape François",
                kind="papal_visit",
                exercise=True,
                **WINDOW,
            ),
        )
    )
    (checklist,) = await eventually(lambda: checklists_of(client, visit["id"]), "its checklist")
    props = checklist["properties"]
    assert props["template_code"] == "official_visit"
    assert props["exercise"] is True  # an exercise's procedures are the exercise's


async def test_an_activation_trigger_starts_the_cells_checklist(
    client_for: Any, sessions: Sessions
) -> None:
    adm, op = client_for("adm"), client_for("op")
    code = f"cell-{uuid.uuid4().hex[:8]}"
    template = {
        "code": code,
        "title": {
            "fr": "Ouverture de la cellule",
            "nl": "Opening van de cel",
            "en": "Cell opening",
        },
        "items": [
            {
                "key": "room",
                "text": {"fr": "Ouvrir la salle", "nl": "De zaal openen", "en": "Open the room"},
            }
        ],
        "triggers": {"activation": {"levels": ["crisis_cell"]}},
    }
    assert (await adm.post("/api/procedures", json=template)).status_code == 201
    try:
        cell = await created(
            op.post(
                "/api/activations",
                json=feature(None, title="GCC — incendie", level="crisis_cell"),
            )
        )
        r = await eventually(
            lambda: _listed(op, cell["id"]), "the activation's checklist", within=20
        )
        (checklist,) = [c for c in r if c["properties"]["template_code"] == code]
        assert checklist["properties"]["activation_id"] == cell["id"]
        assert checklist["properties"]["subject_entity"] == "activation"
    finally:
        assert (await adm.delete(f"/api/procedures/{code}")).status_code == 204
    await caught_up(sessions)


async def _listed(client: httpx.AsyncClient, activation: str) -> list[dict[str, Any]]:
    r = await client.get("/api/checklists", params={"activation": activation})
    return list(r.json()["features"])


def test_a_phase_trigger_starts_when_the_activation_reaches_the_phase() -> None:
    triggers = Triggers.model_validate({"activation": {"phases": ["recovery"]}})
    before = {"status": "open", "level": "coordination", "phase": "management"}
    after = {**before, "phase": "recovery"}
    assert started_by(triggers, "activation", after, before)
    assert not started_by(triggers, "activation", after, after)  # already there: nothing new
    assert not started_by(triggers, "activation", {**after, "status": "closed"}, before)
    assert not started_by(triggers, "incident", after, None)


async def _started(client: httpx.AsyncClient) -> dict[str, Any]:
    event = await created(
        client.post(
            "/api/events",
            json=feature(point(4.334, 50.8957), title="Match", kind="sports_match", **WINDOW),
        )
    )
    r = await client.post(
        "/api/procedures/suspicious_package/start",
        json={"subject_entity": "planned_event", "subject_id": event["id"]},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_ticking_records_who_and_when_and_completes_the_checklist(
    client_for: Any,
) -> None:
    op, coord = client_for("op"), client_for("coord")
    checklist = await _started(op)
    url = f"/api/checklists/{checklist['id']}"
    keys = [i["key"] for i in checklist["properties"]["items"]]

    r = await op.post(f"{url}/items/{keys[0]}", json={"state": "done"})
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    item = props["items"][0]
    assert item["state"] == "done" and item["by"] == "op" and item["at"]
    assert props["done"] == 1 and props["version"] == 2 and props["updated_by"] == "op"

    r = await coord.post(
        f"{url}/items/{keys[1]}", json={"state": "not_applicable", "reason": "Pas de SEDEE requis"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["items"][1] | {"at": None} == {
        "key": keys[1],
        "text": checklist["properties"]["items"][1]["text"],
        "state": "not_applicable",
        "by": "coord",
        "at": None,
        "reason": "Pas de SEDEE requis",
    }
    for key in keys[2:]:
        r = await op.post(f"{url}/items/{key}", json={"state": "done"})
        assert r.status_code == 200
    assert r.json()["properties"]["status"] == "completed"

    reopened = await op.post(f"{url}/items/{keys[0]}", json={"state": "open"})
    assert reopened.status_code == 200
    props = reopened.json()["properties"]
    assert props["status"] == "open" and props["done"] == props["total"] - 1

    history = (await op.get(f"{url}/history")).json()["changes"]
    assert [c["by"] for c in history[:3]] == ["op", "op", "coord"]


async def test_not_applicable_needs_a_reason_and_bad_ticks_write_nothing(
    client: httpx.AsyncClient,
) -> None:
    checklist = await _started(client)
    url = f"/api/checklists/{checklist['id']}"
    key = checklist["properties"]["items"][0]["key"]
    bad = [
        (f"{url}/items/{key}", {"state": "not_applicable"}, 422, "reason"),
        (f"{url}/items/{key}", {"state": "done", "reason": "fait"}, 422, "reason"),
        (f"{url}/items/{key}", {"state": "finished"}, 422, "state"),
        (f"{url}/items/{key}", {"state": "open"}, 409, "already open"),
        (f"{url}/items/no-such-item", {"state": "done"}, 404, "no-such-item"),
        (f"/api/checklists/{uuid.uuid4()}/items/{key}", {"state": "done"}, 404, "checklist"),
    ]
    for path, body, status, named in bad:
        r = await client.post(path, json=body)
        assert r.status_code == status, (path, body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert named in r.text
    r = await client.patch(
        url,
        json={"type": "Feature", "properties": {"items": []}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 422  # the items change by ticking only
    assert (await client.get(url)).json()["properties"]["version"] == 1


async def test_two_agents_ticking_the_same_item_at_once_one_is_told_who_was_first(
    client_for: Any,
) -> None:
    op, coord = client_for("op"), client_for("coord")
    checklist = await _started(op)
    url = f"/api/checklists/{checklist['id']}"
    key = checklist["properties"]["items"][2]["key"]
    for _ in range(3):  # several rounds: each time, exactly one wins
        answers = await asyncio.gather(
            op.post(f"{url}/items/{key}", json={"state": "done"}),
            coord.post(f"{url}/items/{key}", json={"state": "done"}),
        )
        assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
        won = next(r for r in answers if r.status_code == 200).json()
        winner = won["properties"]["items"][2]["by"]
        lost = next(r for r in answers if r.status_code == 409).json()
        assert f"already marked done by {winner}" in lost["detail"]
        assert lost["item"]["by"] == winner
        current = (await op.get(url)).json()["properties"]
        assert current["items"][2]["by"] == winner and current["done"] == 1
        assert (await op.post(f"{url}/items/{key}", json={"state": "open"})).status_code == 200


async def test_starting_by_hand_names_a_bad_template_or_subject(
    client: httpx.AsyncClient,
) -> None:
    start = "/api/procedures/tunnel_fire/start"
    cases = [
        ("/api/procedures/no_such_procedure/start", {}, 404, "no_such_procedure"),
        (start, {"subject_entity": "incident"}, 422, "subject_id"),
        (
            start,
            {"subject_entity": "incident", "subject_id": str(uuid.uuid4())},
            422,
            "no incident",
        ),
        (start, {"activation_id": str(uuid.uuid4())}, 422, '"activation_id"],"msg":"no activation'),
        (start, {"subject_entity": "zone", "subject_id": str(uuid.uuid4())}, 422, "subject_entity"),
    ]
    before = (await client.get("/api/checklists", params={"limit": 1})).json()["head"]
    for path, body, status, named in cases:
        r = await client.post(path, json=body)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert named in r.text
    assert await written_since(client, before) == []


async def test_admins_keep_the_templates_and_others_only_read_them(client_for: Any) -> None:
    adm, op = client_for("adm"), client_for("op")
    listed = (await op.get("/api/procedures")).json()["procedures"]
    codes = {t["code"] for t in listed}
    assert {"tunnel_fire", "flooding", "suspicious_package", "official_visit", "cbrn"} <= codes
    cbrn = (await op.get("/api/procedures/cbrn")).json()
    assert cbrn["title"]["nl"] == "CBRN-incident" and cbrn["triggers"]["incident"]["categories"]

    code = f"drill-{uuid.uuid4().hex[:8]}"
    body = {
        "code": code,
        "title": {"fr": "Exercice", "nl": "Oefening", "en": "Drill"},
        "items": [{"key": "a", "text": {"fr": "Un", "nl": "Een", "en": "One"}}],
    }
    assert (await op.post("/api/procedures", json=body)).status_code == 403
    assert (await adm.post("/api/procedures", json=body)).status_code == 201
    assert (await adm.post("/api/procedures", json=body)).status_code == 409
    twice = {**body, "code": f"{code}-b", "items": body["items"] * 2}
    r = await adm.post("/api/procedures", json=twice)
    assert r.status_code == 422 and "repeated" in r.text
    r = await adm.post(
        "/api/procedures",
        json={**body, "code": f"{code}-c", "triggers": {"incident": {"min_severity": "huge"}}},
    )
    assert r.status_code == 422 and "min_severity" in r.text
    r = await adm.patch(
        f"/api/procedures/{code}", json={"active": False}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["updated_by"] == "adm"
    r = await adm.patch(
        f"/api/procedures/{code}", json={"active": True}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 412
    r = await op.post(f"/api/procedures/{code}/start", json={})
    assert r.status_code == 409 and "inactive" in r.text
    assert (await adm.delete(f"/api/procedures/{code}")).status_code == 204
    assert (await op.get(f"/api/procedures/{code}")).status_code == 404


async def test_activation_templates_start_a_checklist_through_the_service(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    cell = await created(client.post("/api/activations", json=SAMPLES["activations"][0]))
    actor = Actor("coord", "user", role="coordinator")
    async with transaction(sessions) as session:
        first = await start_checklist(session, actor, "cbrn", activation_id=uuid.UUID(cell["id"]))
    async with transaction(sessions) as session:
        again = await start_checklist(session, actor, "cbrn", activation_id=uuid.UUID(cell["id"]))
    assert first.created and not again.created and again.id == first.id
    listed = await _listed(client, cell["id"])
    assert [c["properties"]["template_code"] for c in listed] == ["cbrn"]
