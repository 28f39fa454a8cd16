"""Paging a crisis cell: a partner-held seat is paged by an alert to its organisation (e-mail,
acknowledgement, escalation as every alert), a user-held seat by a `page` message on the user's
/ws; acknowledgement and presence move the seat through the one write path; a partner answers
for its own organisation's seats only; the board says who is reached and who is missing."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.alerts.settings import AlertSettings
from app.alerts.workers.escalation import escalate_due
from tests.alerts.conftest import Inbox
from tests.cell.conftest import head, open_activation, open_feed, seat
from tests.conftest import Server, eventually
from tests.routes import blanked


async def _page(client: httpx.AsyncClient, aid: str, **body: Any) -> dict[str, Any]:
    r = await client.post(f"/api/activations/{aid}/page", json=body or None)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _seat_now(client: httpx.AsyncClient, position_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/positions/{position_id}")
    assert r.status_code == 200, r.text
    return dict(r.json()["properties"])


async def test_a_partner_held_seat_is_paged_by_alert_and_its_acknowledgement_moves_presence(
    make_partner: Any, client_for: Any, inbox: Inbox
) -> None:
    coord = client_for("coord")
    partner = await make_partner()
    await partner.channel("email")
    spoc_mail = f"spoc@{partner.code}.test"
    await partner.contact("Permanence", "fr", 0, email=spoc_mail)
    spoc = await partner.user("fr")
    opened = await open_activation(coord, level="crisis_cell", exercise=True)
    aid, ref = opened["activation"]["id"], opened["activation"]["properties"]["ref"]
    held = await seat(coord, aid, holder_organisation=partner.code, title="Liaison partenaire")

    paging = await _page(coord, aid)
    (paged,) = paging["paged"]
    assert paged["id"] == held["id"] and paged["alert"] and paged["live"] is False
    assert (await _seat_now(coord, held["id"]))["presence"] == "paged"

    (mail,) = await eventually(lambda: inbox.to(spoc_mail), "the SPOC's page e-mail")
    assert f"Cellule de crise {ref}" in mail["Subject"] and "[EXERCISE]" in mail["Subject"]
    alert = (await coord.get(f"/api/alerts/{paged['alert']['id']}")).json()
    assert alert["entity"] == "position" and alert["entity_id"] == held["id"]
    assert alert["severity"] == "Extreme" and alert["status"] == "Exercise"
    assert [r["organisation"] for r in alert["recipients"]] == [partner.code]

    r = await spoc.post(f"/api/alerts/{paged['alert']['id']}/ack")
    assert r.status_code == 200, r.text
    now = await _seat_now(coord, held["id"])
    assert now["presence"] == "acknowledged" and now["acknowledged_at"]
    assert now["updated_by"].startswith("spoc-")

    r = await spoc.post(f"/api/positions/{held['id']}/presence", json={"presence": "present"})
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["arrived_at"] and r.json()["properties"]["presence"] == "present"
    history = (await coord.get(f"/api/positions/{held['id']}/history")).json()["changes"]
    assert [c["feature"]["properties"]["presence"] for c in history] == [
        "expected",
        "paged",
        "acknowledged",
        "present",
    ]
    await spoc.aclose()


async def test_a_user_held_seat_is_paged_on_the_users_socket_and_acknowledged_by_the_user(
    server: Server, client_for: Any
) -> None:
    coord, off = client_for("coord"), client_for("off")
    aid = (await open_activation(coord))["activation"]["id"]
    held = await seat(coord, aid, role="high_official", holder_user="off")
    feed = await open_feed(server, "off")
    feed.read_in_background()
    try:
        paging = await _page(coord, aid)
        (paged,) = paging["paged"]
        assert paged["live"] is True and paged["alert"] is None

        def page_arrived(f: Any) -> bool:
            return any(m["type"] == "page" for m in f.messages)

        await feed.wait_for(page_arrived)
        (message,) = [m for m in feed.messages if m["type"] == "page"]
        assert message["position"]["id"] == held["id"] and message["by"] == "coord"
        assert message["activation"]["id"] == aid
        assert message["position"]["properties"]["presence"] == "paged"
    finally:
        await feed.close()

    r = await off.post(f"/api/positions/{held['id']}/acknowledge")
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert props["presence"] == "acknowledged" and props["updated_by"] == "off"
    r = await off.post(f"/api/positions/{held['id']}/presence", json={"presence": "remote"})
    assert r.status_code == 200 and r.json()["properties"]["arrived_at"]
    r = await off.post(f"/api/positions/{held['id']}/acknowledge")
    assert r.status_code == 409, "an answered page is not acknowledged again"


async def test_acknowledging_the_seat_settles_the_page_so_it_stops_escalating(
    make_partner: Any, client_for: Any
) -> None:
    coord = client_for("coord")
    partner = await make_partner()
    spoc = await partner.user()
    aid = (await open_activation(coord))["activation"]["id"]
    held = await seat(coord, aid, holder_organisation=partner.code)
    (paged,) = (await _page(coord, aid, positions=[held["id"]]))["paged"]

    r = await spoc.post(f"/api/positions/{held['id']}/acknowledge")
    assert r.status_code == 200, r.text
    (recipient,) = (await coord.get(f"/api/alerts/{paged['alert']['id']}")).json()["recipients"]
    assert recipient["acknowledged_at"] and recipient["ack_via"] == "rest"
    assert recipient["acknowledged_by"] == r.json()["properties"]["updated_by"]
    await spoc.aclose()


async def test_a_partner_answers_only_for_its_own_organisations_seats(
    client_for: Any, client: httpx.AsyncClient
) -> None:
    part, part_b = client_for("part"), client_for("part-b")
    aid = (await open_activation(client))["activation"]["id"]
    # Held by B, and shared with every partner: A sees it, and still may not answer for it.
    held_by_b = await seat(client, aid, holder_organisation="pz-5340", visibility="shared")
    assert (await part.get(f"/api/positions/{held_by_b['id']}")).status_code == 200
    before = await head(client)
    unknown = str(uuid.uuid4())
    for action, body in (("acknowledge", None), ("presence", {"presence": "present"})):
        hidden = await part.post(f"/api/positions/{held_by_b['id']}/{action}", json=body)
        missing = await part.post(f"/api/positions/{unknown}/{action}", json=body)
        assert hidden.status_code == 404
        assert blanked(hidden, held_by_b["id"]) == blanked(missing, unknown)
    assert await head(client) == before

    r = await part_b.post(
        f"/api/positions/{held_by_b['id']}/presence", json={"presence": "declined"}
    )
    assert r.status_code == 200 and r.json()["properties"]["presence"] == "declined"
    r = await part_b.post(f"/api/positions/{held_by_b['id']}/presence", json={"presence": "paged"})
    assert r.status_code == 422


async def test_the_board_says_who_is_reached_and_who_is_missing_as_far_as_the_caller_sees(
    client_for: Any, client: httpx.AsyncClient
) -> None:
    part = client_for("part")
    aid = (await open_activation(client))["activation"]["id"]
    mine = await seat(client, aid, holder_organisation="pz-5339")
    await seat(client, aid, holder_organisation="pz-5340")
    await seat(client, aid, role="d3")  # nobody yet
    held_by_op = await seat(client, aid, role="log_keeper", holder_user="op")
    await _page(client, aid)
    r = await client.post(
        f"/api/positions/{held_by_op['id']}/presence", json={"presence": "present"}
    )
    assert r.status_code == 200

    board = (await client.get(f"/api/activations/{aid}/cell")).json()
    assert board["activation"]["phase"] == "pre_alert" and board["total"] == 4
    assert (board["reached"], board["missing"], board["unfilled"]) == (1, 2, 1)
    assert board["counts"]["paged"] == 2 and board["counts"]["present"] == 1
    assert board["counts"]["expected"] == 1
    paged_seats = [p for p in board["positions"] if p["presence"] == "paged"]
    assert all(p["page"]["alert"] and p["page"]["level"] == 0 for p in paged_seats)

    seen = (await part.get(f"/api/activations/{aid}/cell")).json()
    assert [p["id"] for p in seen["positions"]] == [mine["id"]]
    assert seen["activation"] == {"id": aid}, "the activation itself is not shared with A"
    assert seen["missing"] == 1 and seen["total"] == 1
    unknown = str(uuid.uuid4())
    other = await client.post(
        "/api/activations/open", json={"title": "GCC interne", "level": "monitoring"}
    )
    oid = other.json()["activation"]["id"]
    hidden = await part.get(f"/api/activations/{oid}/cell")
    missing = await part.get(f"/api/activations/{unknown}/cell")
    assert blanked(hidden, oid) == blanked(missing, unknown) and hidden.status_code == 404


async def test_paging_refuses_unknown_seats_and_a_closed_activation_writing_nothing(
    client_for: Any, client: httpx.AsyncClient
) -> None:
    coord = client_for("coord")
    opened = await open_activation(coord)
    aid = opened["activation"]["id"]
    other = (await open_activation(coord))["activation"]["id"]
    elsewhere = await seat(coord, other, holder_user="off")
    before = await head(client)
    for wanted in ([str(uuid.uuid4())], [elsewhere["id"]]):
        r = await coord.post(f"/api/activations/{aid}/page", json={"positions": wanted})
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["loc"] == ["body", "positions", 0]
    assert await head(client) == before

    empty = await _page(coord, aid)
    assert empty == {"paged": [], "skipped": []}
    vacant = await seat(coord, aid, role="d2")
    skipped = await _page(coord, aid)
    assert [(s["id"], s["reason"]) for s in skipped["skipped"]] == [(vacant["id"], "no holder")]

    r = await coord.post(f"/api/activations/{aid}/close", json={}, headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    r = await coord.post(f"/api/activations/{aid}/page")
    assert r.status_code == 409 and "closed" in r.json()["detail"]


async def test_an_unanswered_page_escalates_to_the_next_spoc_and_an_answered_one_does_not(
    make_partner: Any, client_for: Any, inbox: Inbox, sessions: Any
) -> None:
    coord = client_for("coord")
    partner = await make_partner()
    await partner.channel("email")
    first, second = f"first@{partner.code}.test", f"second@{partner.code}.test"
    await partner.contact("Premier", "fr", 0, email=first)
    await partner.contact("Tweede", "nl", 1, email=second)
    aid = (await open_activation(coord, level="crisis_cell"))["activation"]["id"]
    silent = await seat(coord, aid, holder_organisation=partner.code, title="Liaison 1")
    answered = await seat(coord, aid, holder_organisation=partner.code, title="Liaison 2")
    pages = {p["id"]: p["alert"]["id"] for p in (await _page(coord, aid))["paged"]}
    await eventually(lambda: len(inbox.to(first)) == 2 or None, "both pages to the first SPOC")
    spoc = await partner.user()
    assert (await spoc.post(f"/api/positions/{answered['id']}/acknowledge")).status_code == 200

    alert = (await coord.get(f"/api/alerts/{pages[silent['id']]}")).json()
    deadline = datetime.fromisoformat(alert["recipients"][0]["deadline_at"])
    async with sessions() as session, session.begin():
        steps = await escalate_due(session, AlertSettings(), deadline + timedelta(seconds=1))
    mine = [s for s in steps if s.organisation == partner.code]
    assert [(s.alert_id, s.level) for s in mine] == [(pages[silent["id"]], 1)]
    (mail,) = await eventually(lambda: inbox.to(second), "the page escalated to the second SPOC")
    assert "Crisiscel" in mail["Subject"], "in the second SPOC's language"
    board = (await coord.get(f"/api/activations/{aid}/cell")).json()
    levels = {p["id"]: (p["presence"], p["page"]["level"]) for p in board["positions"]}
    assert levels == {silent["id"]: ("paged", 1), answered["id"]: ("acknowledged", 0)}
    await spoc.aclose()


async def test_a_page_acknowledged_over_the_socket_moves_the_seat(
    server: Server, make_partner: Any, client_for: Any
) -> None:
    coord = client_for("coord")
    partner = await make_partner()
    spoc = await partner.user()
    name = (await spoc.get("/api/auth/me")).json()["name"]
    aid = (await open_activation(coord))["activation"]["id"]
    held = await seat(coord, aid, holder_organisation=partner.code)
    feed = await open_feed(server, name)
    feed.read_in_background()
    try:
        (paged,) = (await _page(coord, aid))["paged"]
        alert_id = paged["alert"]["id"]

        def alerted(f: Any) -> bool:
            return any(m["type"] == "alert" and m["alert"]["id"] == alert_id for m in f.messages)

        await feed.wait_for(alerted)
        await feed.send({"type": "ack", "alert": alert_id})
        await feed.wait_for(lambda f: any(m["type"] == "acked" for m in f.messages))
    finally:
        await feed.close()
    now = await _seat_now(coord, held["id"])
    assert now["presence"] == "acknowledged" and now["updated_by"] == name
    await spoc.aclose()


async def test_a_reminder_page_acknowledged_settles_the_first_page_too(
    make_partner: Any, client_for: Any
) -> None:
    coord = client_for("coord")
    partner = await make_partner()
    spoc = await partner.user()
    aid = (await open_activation(coord))["activation"]["id"]
    held = await seat(coord, aid, holder_organisation=partner.code)
    (first,) = (await _page(coord, aid))["paged"]
    (reminder,) = (await _page(coord, aid))["paged"]  # still paged: paged again
    assert first["alert"]["id"] != reminder["alert"]["id"]

    assert (await spoc.post(f"/api/alerts/{reminder['alert']['id']}/ack")).status_code == 200
    assert (await _seat_now(coord, held["id"]))["presence"] == "acknowledged"
    for page in (first, reminder):
        (recipient,) = (await coord.get(f"/api/alerts/{page['alert']['id']}")).json()["recipients"]
        assert recipient["acknowledged_at"], "no page of an answered seat goes on escalating"
    await spoc.aclose()
