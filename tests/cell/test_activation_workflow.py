"""A GCC activation as a workflow: opened from an incident with a template (its positions
created with it), moved from phase to phase with who and why in its history, closed with a
debrief; bad input refused naming the field, with nothing written."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from tests.cell.conftest import head, open_activation, seat
from tests.conftest import incident


def _errors(r: httpx.Response) -> list[list[Any]]:
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return [e["loc"] for e in r.json()["errors"]]


async def _template(client: httpx.AsyncClient, code: str) -> dict[str, Any]:
    r = await client.get(f"/api/activation-templates/{code}")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_opening_from_an_incident_with_a_template_creates_its_positions(
    client: httpx.AsyncClient,
) -> None:
    fire = await client.post("/api/incidents", json=incident("Incendie entrepôt Anderlecht"))
    assert fire.status_code == 201, fire.text
    template = await _template(client, "major_fire")
    opened = await open_activation(
        client,
        template="major_fire",
        level=None,
        subject_entity="incident",
        subject_id=fire.json()["id"],
    )
    props = opened["activation"]["properties"]
    assert props["level"] == template["level"] == "crisis_cell"
    assert props["template"] == "major_fire" and props["phase"] == "pre_alert"
    assert props["subject_id"] == fire.json()["id"] and props["created_by"] == "op"

    seats = opened["positions"]
    assert [s["properties"]["role"] for s in seats] == [p["role"] for p in template["positions"]]
    assert {s["properties"]["activation_id"] for s in seats} == {opened["activation"]["id"]}
    (d1,) = [s["properties"] for s in seats if s["properties"]["role"] == "d1"]
    assert d1["holder_organisation"] == "siamu-dbdmh" and "siamu-dbdmh" in d1["shared_with"]
    assert all(s["properties"]["presence"] == "expected" for s in seats)

    listed = await client.get("/api/positions", params={"activation": opened["activation"]["id"]})
    assert sorted(f["id"] for f in listed.json()["features"]) == sorted(s["id"] for s in seats)


async def test_opening_refuses_what_is_wrong_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    before = await head(client)
    cases = {
        ("body", "template"): {"template": "no_such_template"},
        ("body", "level"): {"level": None},
        ("body", "phase"): {"phase": "no_such_phase"},
        ("body", "subject_id"): {"subject_entity": "incident", "subject_id": str(uuid.uuid4())},
        ("body", "shared_with"): {"shared_with": ["t-nobody"]},
    }
    for loc, fields in cases.items():
        body = {"title": "GCC refusé", "level": "coordination", **fields}
        r = await client.post("/api/activations/open", json=body)
        assert r.status_code == 422, (loc, r.text)
        assert _errors(r) == [list(loc)], r.text
    r = await client.post(
        "/api/activations/open",
        json={"title": "GCC", "level": "coordination", "subject_entity": "incident"},
    )
    assert r.status_code == 422 and _errors(r) == [["body", "subject_id"]]
    # The generic create checks a phase too, and starts without one in the first active phase.
    plain = {
        "type": "Feature",
        "geometry": None,
        "properties": {"title": "GCC", "level": "monitoring"},
    }
    plain["properties"]["phase"] = "no_such_phase"
    r = await client.post("/api/activations", json=plain)
    assert r.status_code == 422 and _errors(r) == [["body", "properties", "phase"]]
    assert await head(client) == before
    del plain["properties"]["phase"]
    r = await client.post("/api/activations", json=plain)
    assert r.status_code == 201 and r.json()["properties"]["phase"] == "pre_alert"


async def test_phase_changes_are_recorded_with_who_and_why_in_history(
    client_for: Any,
) -> None:
    coord, off = client_for("coord"), client_for("off")
    opened = await open_activation(coord)
    aid = opened["activation"]["id"]
    r = await coord.post(
        f"/api/activations/{aid}/phase",
        json={"phase": "coordination", "reason": "Deuxième foyer signalé"},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"2"'
    r = await off.post(
        f"/api/activations/{aid}/phase",
        json={"phase": "management", "reason": "Le Haut Fonctionnaire prend la coordination"},
        headers={"If-Match": '"2"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["phase"] == "management"

    history = (await coord.get(f"/api/activations/{aid}/history")).json()["changes"]
    steps = [
        (c["by"], c["feature"]["properties"]["phase"], c["feature"]["properties"]["phase_reason"])
        for c in history
    ]
    assert steps == [
        ("coord", "pre_alert", None),
        ("coord", "coordination", "Deuxième foyer signalé"),
        ("off", "management", "Le Haut Fonctionnaire prend la coordination"),
    ]
    assert all(c["at"] for c in history)


async def test_a_phase_change_refused_writes_nothing(
    client_for: Any, client: httpx.AsyncClient
) -> None:
    coord, adm = client_for("coord"), client_for("adm")
    aid = (await open_activation(coord))["activation"]["id"]
    url = f"/api/activations/{aid}/phase"
    code = f"retired_{uuid.uuid4().hex[:6]}"
    r = await adm.post(
        "/api/activation-phases",
        json={
            "code": code,
            "order": 99,
            "label_fr": "Ancienne",
            "label_nl": "Oude",
            "label_en": "Old",
            "active": False,
        },
    )
    assert r.status_code == 201, r.text
    before = await head(client)

    for phase in ("no_such_phase", code):  # unknown, and kept but no longer offered
        r = await coord.post(url, json={"phase": phase, "reason": "x"}, headers={"If-Match": '"1"'})
        assert r.status_code == 422 and _errors(r) == [["body", "phase"]], r.text
    r = await coord.post(url, json={"phase": "coordination"}, headers={"If-Match": '"1"'})
    assert r.status_code == 422 and _errors(r) == [["body", "reason"]]
    r = await coord.post(url, json={"phase": "coordination", "reason": "x"})
    assert r.status_code == 428
    r = await coord.post(
        url, json={"phase": "pre_alert", "reason": "x"}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 409 and "already in phase" in r.json()["detail"]
    r = await coord.post(
        url, json={"phase": "coordination", "reason": "x"}, headers={"If-Match": '"7"'}
    )
    assert r.status_code == 412 and r.json()["current"]["properties"]["version"] == 1
    r = await coord.post(
        f"/api/activations/{uuid.uuid4()}/phase",
        json={"phase": "coordination", "reason": "x"},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 404
    # The generic PATCH takes no phase: a phase changes only with its reason.
    r = await coord.patch(
        f"/api/activations/{aid}",
        json={"type": "Feature", "properties": {"phase": "coordination"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 422, r.text
    assert await head(client) == before


async def test_two_coordinators_changing_the_phase_at_once_one_wins_the_other_gets_412(
    client_for: Any,
) -> None:
    coord, off = client_for("coord"), client_for("off")
    aid = (await open_activation(coord))["activation"]["id"]
    url = f"/api/activations/{aid}/phase"
    answers = await asyncio.gather(
        coord.post(url, json={"phase": "coordination", "reason": "A"}, headers={"If-Match": '"1"'}),
        off.post(url, json={"phase": "management", "reason": "B"}, headers={"If-Match": '"1"'}),
    )
    assert sorted(r.status_code for r in answers) == [200, 412], [r.text for r in answers]
    (won,) = [r for r in answers if r.status_code == 200]
    (lost,) = [r for r in answers if r.status_code == 412]
    assert lost.json()["current"]["properties"]["phase"] == won.json()["properties"]["phase"]
    history = (await coord.get(f"/api/activations/{aid}/history")).json()["changes"]
    assert len(history) == 2


async def test_closing_with_a_debrief_keeps_it_on_the_activation_and_in_its_history(
    client_for: Any, client: httpx.AsyncClient
) -> None:
    coord = client_for("coord")
    # The major-fire template seats the fire services (siamu-dbdmh) as D1.
    aid = (await open_activation(coord, template="major_fire"))["activation"]["id"]
    url = f"/api/activations/{aid}/close"
    debrief = {
        "went_well": "Liaison D3 rapide",
        "to_improve": "Le D2 a été appelé tard",
        "follow_up": [
            {
                "title": "Revoir la liste d'appel D2",
                "owner_organisation": "siamu-dbdmh",
                "due_at": "2026-12-20T12:00:00+01:00",
            },
            {"title": "Exercice de rappel"},
        ],
    }
    before = await head(client)
    for outsider in ("t-nobody", "nccn"):  # unknown; known but holding no seat in the cell
        bad = {**debrief, "follow_up": [{"title": "x", "owner_organisation": outsider}]}
        r = await coord.post(url, json=bad, headers={"If-Match": '"1"'})
        assert r.status_code == 422, r.text
        assert _errors(r) == [["body", "follow_up", 0, "owner_organisation"]]
    r = await coord.post(url, json={**debrief, "verdict": "ok"}, headers={"If-Match": '"1"'})
    assert r.status_code == 422
    assert await head(client) == before

    r = await coord.post(url, json=debrief, headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert props["status"] == "closed" and props["closed_at"]
    kept = props["debrief"]
    assert kept["went_well"] == "Liaison D3 rapide" and kept["recorded_by"] == "coord"
    first, second = kept["follow_up"]
    assert first["owner_organisation"] == "siamu-dbdmh"
    assert first["due_at"] == "2026-12-20T11:00:00+00:00" and second["due_at"] is None
    # Each follow-up is a task of the activation, owned as the debrief says.
    tasks = (await coord.get("/api/tasks", params={"activation": aid})).json()["features"]
    by_id = {t["id"]: t["properties"] for t in tasks}
    assert set(by_id) == {first["task_id"], second["task_id"]}
    assert by_id[first["task_id"]]["title"] == "Revoir la liste d'appel D2"
    assert by_id[first["task_id"]]["owner_organisation"] == "siamu-dbdmh"
    assert by_id[second["task_id"]]["owner_organisation"] is None

    read = (await coord.get(f"/api/activations/{aid}")).json()["properties"]
    assert read["debrief"] == kept
    (last,) = (await coord.get(f"/api/activations/{aid}/history")).json()["changes"][-1:]
    assert last["by"] == "coord" and last["feature"]["properties"]["debrief"] == kept

    r = await coord.post(url, json=debrief, headers={"If-Match": '"2"'})
    assert r.status_code == 409
    r = await coord.post(
        f"/api/activations/{aid}/phase",
        json={"phase": "recovery", "reason": "x"},
        headers={"If-Match": '"2"'},
    )
    assert r.status_code == 409 and "closed" in r.json()["detail"]


async def test_administrators_keep_the_phases_and_templates(
    client_for: Any, client: httpx.AsyncClient
) -> None:
    adm, op = client_for("adm"), client
    phases = (await op.get("/api/activation-phases", params={"active": True})).json()["phases"]
    assert [p["code"] for p in phases][:4] == [
        "pre_alert",
        "coordination",
        "management",
        "recovery",
    ]
    assert phases[1]["label_nl"] == "Coördinatie"
    code = f"t_{uuid.uuid4().hex[:8]}"
    template = {
        "code": code,
        "label_fr": "Sommet",
        "label_nl": "Top",
        "label_en": "Summit",
        "level": "coordination",
        "positions": [
            {"role": "coordinator", "title": "Coordinateur"},
            {"role": "d3", "title": "D3 — PZ 5339", "holder_organisation": "pz-5339"},
            {"role": "log_keeper", "title": "Journal", "holder_user": "op"},
        ],
        "procedures": ["official_visit"],
        "fiche": [
            {
                "organisation": "pz-5339",
                "discipline": "d3",
                "role": "Sécurisation des accès",
                "responsibilities": "Périmètre, filtrage, escorte",
                "radio_talkgroup": "ASTRID PZ5339-OPS",
            }
        ],
    }
    r = await op.post("/api/activation-templates", json=template)
    assert r.status_code == 403
    for loc, seat_fields in (
        (["body", "positions", 0, "holder_organisation"], {"holder_organisation": "t-nobody"}),
        (["body", "positions", 0, "holder_user"], {"holder_user": "nobody-here"}),
    ):
        bad = {**template, "positions": [{"role": "d1", "title": "D1", **seat_fields}]}
        r = await adm.post("/api/activation-templates", json=bad)
        assert r.status_code == 422 and _errors(r) == [loc], r.text
    bad = {**template, "procedures": ["official_visit", "no_such_procedure"]}
    r = await adm.post("/api/activation-templates", json=bad)
    assert r.status_code == 422 and _errors(r) == [["body", "procedures", 1]], r.text
    bad = {**template, "fiche": [{**template["fiche"][0], "organisation": "t-nobody"}]}
    r = await adm.post("/api/activation-templates", json=bad)
    assert r.status_code == 422 and _errors(r) == [["body", "fiche", 0, "organisation"]], r.text
    bad = {**template, "positions": [{"role": "d9", "title": "D9"}]}
    r = await adm.post("/api/activation-templates", json=bad)
    assert r.status_code == 422 and _errors(r)[0][:4] == ["body", "positions", 0, "role"]
    assert (await op.get(f"/api/activation-templates/{code}")).status_code == 404

    r = await adm.post("/api/activation-templates", json=template)
    assert r.status_code == 201, r.text
    assert (await adm.post("/api/activation-templates", json=template)).status_code == 409
    opened = await open_activation(op, template=code, level=None)
    seats = [s["properties"] for s in opened["positions"]]
    assert [(s["role"], s["holder_organisation"], s["holder_user"]) for s in seats] == [
        ("coordinator", None, None),
        ("d3", "pz-5339", None),
        ("log_keeper", None, "op"),
    ]
    # The template's standard procedure runs as the cell's checklist, its fiche is drafted.
    aid = opened["activation"]["id"]
    (checklist,) = (await op.get("/api/checklists", params={"activation": aid})).json()["features"]
    assert checklist["properties"]["template_code"] == "official_visit"
    assert checklist["properties"]["done"] == 0 < checklist["properties"]["total"]
    (fiche,) = (await op.get("/api/fiches", params={"activation": aid})).json()["features"]
    assert fiche["properties"]["status"] == "draft"
    assert [e["organisation"] for e in fiche["properties"]["entries"]] == ["pz-5339"]
    assert (await adm.delete(f"/api/activation-templates/{code}")).status_code == 409
    r = await adm.patch(f"/api/activation-templates/{code}", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    r = await op.post("/api/activations/open", json={"title": "x", "template": code})
    assert r.status_code == 422 and _errors(r) == [["body", "template"]]

    assert (await adm.delete("/api/activation-phases/pre_alert")).status_code == 409
    spare = f"spare_{uuid.uuid4().hex[:6]}"
    r = await adm.post(
        "/api/activation-phases",
        json={"code": spare, "order": 5, "label_fr": "a", "label_nl": "b", "label_en": "c"},
    )
    assert r.status_code == 201
    r = await adm.patch(f"/api/activation-phases/{spare}", json={"order": None})
    assert r.status_code == 422 and _errors(r) == [["body", "order"]]
    assert (await adm.delete(f"/api/activation-phases/{spare}")).status_code == 204
    assert (await op.get(f"/api/activation-phases/{spare}")).status_code == 404


async def test_a_seat_is_held_by_a_known_user_or_organisation_in_a_known_role(
    client: httpx.AsyncClient,
) -> None:
    aid = (await open_activation(client))["activation"]["id"]
    before = await head(client)
    for props, loc in (
        ({"holder_user": "nobody-here"}, "holder_user"),
        ({"holder_user": "part"}, "holder_user"),  # a partner holds through its organisation
        ({"holder_organisation": "t-nobody"}, "holder_organisation"),
        ({"role": "d9"}, "role"),
    ):
        body = {
            "type": "Feature",
            "geometry": None,
            "properties": {"title": "Seat", "activation_id": aid, "role": "d1", **props},
        }
        r = await client.post("/api/positions", json=body)
        assert r.status_code == 422, r.text
        assert _errors(r)[0][:3] == ["body", "properties", loc], r.text
    assert await head(client) == before
    held = await seat(client, aid, holder_user="off")
    r = await client.patch(
        f"/api/positions/{held['id']}",
        json={"type": "Feature", "properties": {"holder_user": "nobody-here"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 422 and _errors(r) == [["body", "properties", "holder_user"]]


async def test_an_open_sent_again_with_its_idempotency_key_creates_nothing(
    client: httpx.AsyncClient,
) -> None:
    key = {"Idempotency-Key": f"open-{uuid.uuid4()}"}
    body = {"title": "GCC — crue de la Senne", "template": "flood"}
    first = await client.post("/api/activations/open", json=body, headers=key)
    assert first.status_code == 201, first.text
    before = await head(client)
    again = await client.post("/api/activations/open", json=body, headers=key)
    assert again.status_code == 200, again.text
    assert again.json()["activation"]["id"] == first.json()["activation"]["id"]
    assert sorted(p["id"] for p in again.json()["positions"]) == sorted(
        p["id"] for p in first.json()["positions"]
    )
    assert await head(client) == before
    other = await client.post("/api/activations/open", json={**body, "title": "x"}, headers=key)
    assert other.status_code == 422


async def test_a_template_that_follows_a_plan_seats_and_pages_the_plan_s_contacts(
    client_for: Any, client: httpx.AsyncClient
) -> None:
    """The plan's contacts come from the directory as it stands when the activation opens:
    each organisation it names gets a liaison seat (one, even when named twice, none when it
    already holds one), and paging the cell reaches them through their channels."""
    adm, coord = client_for("adm"), client_for("coord")
    entries = []
    for org, function in (
        ("vivaqua", "Dispatching 24/7"),
        ("vivaqua", "Ingénieur de garde"),
        ("sibelga", "Dispatching gaz"),
        ("pz-5339", "Officier de garde"),
    ):
        body = {"organisation": org, "function": function, "phone_24_7": "02 501 05 11"}
        r = await adm.post("/api/directory", json=body)
        assert r.status_code == 201, r.text
        entries.append(r.json()["id"])
    plan = {
        "type": "Feature",
        "geometry": None,
        "properties": {"title": "PPUI inondation", "kind": "special", "contact_ids": entries},
    }
    r = await adm.post("/api/plans", json=plan)
    assert r.status_code == 201, r.text
    code = f"t_{uuid.uuid4().hex[:8]}"
    template = {
        "code": code,
        "label_fr": "Inondation (PPUI)",
        "label_nl": "Overstroming (BNIP)",
        "label_en": "Flood (special plan)",
        "level": "coordination",
        "positions": [{"role": "d3", "title": "D3", "holder_organisation": "pz-5339"}],
        "plan_id": r.json()["id"],
    }
    assert (await adm.post("/api/activation-templates", json=template)).status_code == 201

    opened = await open_activation(coord, template=code)
    held = sorted(
        (p["properties"]["role"], p["properties"]["holder_organisation"])
        for p in opened["positions"]
    )
    assert held == [
        ("d3", "pz-5339"),
        ("partner_liaison", "sibelga"),
        ("partner_liaison", "vivaqua"),
    ]
    aid = opened["activation"]["id"]
    r = await coord.post(f"/api/activations/{aid}/page", json={})
    assert r.status_code == 200, r.text
    seats = (await coord.get("/api/positions", params={"activation": aid})).json()["features"]
    assert {s["properties"]["presence"] for s in seats} == {"paged"}
