"""Alerts composed by SITCEN: CAP fields and FR/NL/EN texts, an area from an object or drawn,
chosen partners or all, Update and Cancel referencing the earlier alert; each SPOC's text in
its language."""

from __future__ import annotations

from typing import Any

import httpx

from tests.alerts.conftest import Inbox, Receiver, place, square
from tests.conftest import eventually

TEXTS = {
    "fr": {
        "headline": "Fermeture du tunnel Léopold II",
        "description": "Déviation par la petite ceinture",
    },
    "nl": {"headline": "Sluiting Leopold II-tunnel", "description": "Omleiding via de kleine ring"},
    "en": {"headline": "Leopold II tunnel closed"},
}


def _alert(organisations: Any, **fields: Any) -> dict[str, Any]:
    return {
        "severity": "Moderate",
        "urgency": "Expected",
        "certainty": "Likely",
        "categories": ["Transport"],
        "event": "Tunnel closure",
        "texts": TEXTS,
        "organisations": organisations,
        **fields,
    }


async def test_composed_alert_reaches_chosen_partners_each_spoc_in_its_language(
    make_partner: Any, client_for: Any, inbox: Inbox, receiver: Receiver
) -> None:
    coord: httpx.AsyncClient = client_for("coord")
    a, b, left_out = await make_partner(), await make_partner(), await make_partner()
    for partner, language in ((a, "fr"), (b, "nl")):
        await partner.channel("email")
        await partner.contact("SPOC", language, 0, email=f"spoc@{partner.code}.test")
    hook = await left_out.webhook(receiver)
    lon, lat = place()
    body = _alert([a.code, b.code], area={"geometry": square(lon, lat)}, status="Exercise")
    r = await coord.post("/api/alerts", json=body)
    assert r.status_code == 201, r.text
    alert = r.json()
    assert alert["status"] == "Exercise" and alert["area"]["type"] == "Polygon"
    assert alert["area_codes"] and alert["created_by"] == "coord"
    assert sorted(x["organisation"] for x in alert["recipients"]) == sorted([a.code, b.code])

    (fr,) = await eventually(lambda: inbox.to(f"spoc@{a.code}.test"), "the French e-mail")
    (nl,) = await eventually(lambda: inbox.to(f"spoc@{b.code}.test"), "the Dutch e-mail")
    assert "Fermeture du tunnel" in fr["Subject"] and "[EXERCISE]" in fr["Subject"]
    assert "Sluiting Leopold II-tunnel" in nl["Subject"]
    assert "Omleiding" in nl.get_content()
    assert hook.requests == []


async def test_update_and_cancel_reference_the_earlier_alert_and_its_partners(
    make_partner: Any, client_for: Any, client: httpx.AsyncClient
) -> None:
    coord: httpx.AsyncClient = client_for("coord")
    partner = await make_partner()
    lon, lat = place()
    zone = {
        "type": "Feature",
        "geometry": square(lon, lat),
        "properties": {"title": "Interdiction de drones", "kind": "drone_ban"},
    }
    zone_id = (await client.post("/api/zones", json=zone)).json()["id"]
    first = await coord.post(
        "/api/alerts",
        json=_alert([partner.code], area={"object": {"entity": "zone", "id": zone_id}}),
    )
    assert first.status_code == 201, first.text
    assert first.json()["entity"] == "zone" and first.json()["entity_ref"].startswith("ZON-")
    first_id = first.json()["id"]

    no_ref = await coord.post("/api/alerts", json=_alert(None, msg_type="Update"))
    assert no_ref.status_code == 422
    update = await coord.post(
        "/api/alerts", json=_alert(None, msg_type="Update", references=first_id, severity="Severe")
    )
    assert update.status_code == 201, update.text
    assert update.json()["references"] == first_id
    assert [r["organisation"] for r in update.json()["recipients"]] == [partner.code]
    cancel = await coord.post(
        "/api/alerts", json=_alert(None, msg_type="Cancel", references=update.json()["id"])
    )
    assert cancel.status_code == 201 and cancel.json()["msg_type"] == "Cancel"


async def test_alert_to_all_partners(client_for: Any) -> None:
    coord: httpx.AsyncClient = client_for("coord")
    r = await coord.post("/api/alerts", json=_alert("all", status="Test"))
    assert r.status_code == 201, r.text
    organisations = {
        o["code"] for o in (await coord.get("/api/organisations")).json()["organisations"]
    }
    assert {x["organisation"] for x in r.json()["recipients"]} == organisations


async def test_composing_is_refused_to_partners_and_checks_its_fields(client_for: Any) -> None:
    partner: httpx.AsyncClient = client_for("part")
    assert (await partner.post("/api/alerts", json=_alert("all"))).status_code == 403
    coord: httpx.AsyncClient = client_for("coord")
    wrong = await coord.post("/api/alerts", json=_alert(["no-such-partner"], severity="Bad"))
    assert wrong.status_code == 422
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["errors"][0]["loc"] == ["body", "severity"]
    unknown = await coord.post("/api/alerts", json=_alert(["no-such-partner"]))
    assert unknown.status_code == 422 and "no-such-partner" in unknown.json()["detail"]
    far = await coord.post(
        "/api/alerts", json=_alert(["pz-5339"], area={"geometry": square(2.0, 48.8)})
    )
    assert far.status_code == 422 and far.json()["errors"][0]["loc"][:3] == [
        "body",
        "area",
        "geometry",
    ]


async def test_the_list_carries_each_partners_deliveries_when_the_dashboard_asks(
    make_partner: Any, client_for: Any, receiver: Receiver
) -> None:
    coord: httpx.AsyncClient = client_for("coord")
    hooked, unhooked = await make_partner(), await make_partner()
    hook = await hooked.webhook(receiver)
    r = await coord.post("/api/alerts", json=_alert([hooked.code, unhooked.code]))
    assert r.status_code == 201, r.text
    alert_id = r.json()["id"]
    await eventually(lambda: hook.processed, "the webhook")

    async def listed(params: dict[str, Any], who: httpx.AsyncClient = coord) -> dict[str, Any]:
        page = (await who.get("/api/alerts", params={"limit": 10, **params})).json()
        (mine,) = [a for a in page["alerts"] if a["id"] == alert_id]
        return {row["organisation"]: row for row in mine["recipients"]}

    async def delivered() -> dict[str, Any] | None:
        rows = await listed({"deliveries": "true"})
        sent = rows[hooked.code]["deliveries"]
        return rows if sent and sent[0]["status"] == "delivered" else None

    rows = await eventually(delivered, "the delivery listed as delivered")
    (webhook,) = rows[hooked.code]["deliveries"]
    assert webhook["channel"] == "webhook" and webhook["attempts"] == 1
    assert rows[unhooked.code]["deliveries"] == []
    assert all("deliveries" not in row for row in (await listed({})).values())
    spoc = await hooked.user()
    try:
        own = await listed({"deliveries": "true"}, spoc)
        assert list(own) == [hooked.code] and len(own[hooked.code]["deliveries"]) == 1
    finally:
        await spoc.aclose()


async def test_a_headline_over_two_lines_is_mailed_on_one_and_mail_goes_on(
    make_partner: Any, client_for: Any, inbox: Inbox
) -> None:
    """A line break in a headline once stopped the e-mail worker for every partner (a mail
    header cannot hold one): the subject now keeps it on one line, and a fault in one delivery
    never stops the others."""
    coord: httpx.AsyncClient = client_for("coord")
    partner = await make_partner()
    await partner.channel("email")
    address = f"spoc@{partner.code}.test"
    await partner.contact("SPOC", "fr", 0, email=address)
    two_lines = {**TEXTS, "fr": {"headline": "Fermeture du tunnel\r\nLéopold II"}}
    first = await coord.post("/api/alerts", json=_alert([partner.code], texts=two_lines))
    assert first.status_code == 201, first.text
    (mail,) = await eventually(lambda: inbox.to(address), "the e-mail")
    assert "Fermeture du tunnel Léopold II" in mail["Subject"]
    second = await coord.post("/api/alerts", json=_alert([partner.code]))
    assert second.status_code == 201, second.text
    await eventually(lambda: len(inbox.to(address)) == 2 or None, "the next e-mail")
