"""Alerting keeps each partner to its own: two partner organisations A and B, each with a SPOC,
subscriptions and channels; objects shared with A only, with B only, with nobody, with all;
alerts raised by rules of both and composed to each. A partner reads its own recipient row,
deliveries and subscription, by every path (REST, Atom, CAP, /ws, webhook, e-mail), learns
nothing of zones it may not see, and a Cancel tells it only what it was alerted with."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.alerts.conftest import (
    Inbox,
    Receiver,
    alerts_of,
    caught_up,
    incident,
    place,
    square,
)
from tests.conftest import Server, eventually
from tests.realtime.conftest import Feed
from tests.routes import blanked

Sessions = async_sessionmaker[AsyncSession]


def _token(spoc: httpx.AsyncClient) -> str:
    return spoc.headers["Authorization"].removeprefix("Bearer ")


async def _alert_message(feed: Feed, alert_id: str) -> dict[str, Any]:
    while True:
        message = await feed.next()
        if message["type"] == "alert" and message["alert"]["id"] == alert_id:
            return message


def _zone(lon: float, lat: float, title: str, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": square(lon, lat, 0.0008),
        "properties": {"title": title, "kind": "hotspot", **props},
    }


async def test_an_alert_to_two_partners_shows_each_only_its_own_subscription_and_rows(
    make_partner: Any,
    client: httpx.AsyncClient,
    server: Server,
    receiver: Receiver,
    inbox: Inbox,
) -> None:
    a, b = await make_partner(), await make_partner()
    lon, lat = place()
    subscription = {
        p.code: await p.subscribe(area_kind="polygon", polygon=square(lon, lat)) for p in (a, b)
    }
    hooks = {p.code: await p.webhook(receiver) for p in (a, b)}
    for p in (a, b):
        await p.channel("email")
        await p.contact("Permanence", "fr", 0, email=f"duty@{p.code}.test")
    spocs = {p.code: await p.user("fr") for p in (a, b)}
    feeds = {
        code: await Feed.open(server.ws_url, _token(spoc), filter={"entities": ["logbook_entry"]})
        for code, spoc in spocs.items()
    }
    try:
        for feed in feeds.values():
            assert (await feed.next())["type"] == "welcome"
        assert (await client.post("/api/incidents", json=incident(lon, lat))).status_code == 201
        (alert,) = await eventually(lambda: alerts_of(client, a.code), "the alert")

        staff = (await client.get(f"/api/alerts/{alert['id']}")).json()
        assert {r["organisation"]: r["subscription_id"] for r in staff["recipients"]} == {
            p.code: subscription[p.code]["id"] for p in (a, b)
        }, "SITCEN sees every partner, each with the subscription that raised its alert"

        for me, other in ((a, b), (b, a)):
            theirs = (other.code, subscription[other.code]["id"])
            spoc = spocs[me.code]
            answers = {
                "list": await spoc.get("/api/alerts"),
                "list with deliveries": await spoc.get("/api/alerts", params={"deliveries": True}),
                "one": await spoc.get(f"/api/alerts/{alert['id']}"),
                "cap": await spoc.get(f"/api/alerts/{alert['id']}.cap"),
                "atom": await spoc.get("/api/alerts/feed.atom"),
                "escalations": await spoc.get("/api/alerts/escalations"),
                "deliveries": await spoc.get("/api/alerts/deliveries"),
            }
            for path, r in answers.items():
                assert r.status_code == 200, (path, r.text)
                for secret in theirs:
                    assert secret not in r.text, (me.code, path)
            (own,) = answers["one"].json()["recipients"]
            assert own["organisation"] == me.code
            assert own["subscription_id"] == subscription[me.code]["id"]

            pushed = await _alert_message(feeds[me.code], alert["id"])
            (row,) = pushed["recipients"]
            assert row["subscription_id"] == subscription[me.code]["id"]
            for secret in theirs:
                assert secret not in orjson.dumps(pushed).decode(), (me.code, "/ws")

            (body,) = await eventually(
                lambda me=me: list(hooks[me.code].processed.values()), "the webhook"
            )
            assert body["organisation"] == me.code
            assert body["subscription_id"] == subscription[me.code]["id"]
            for secret in theirs:
                assert secret not in orjson.dumps(body).decode(), (me.code, "webhook")

            (mail,) = await eventually(lambda me=me: inbox.to(f"duty@{me.code}.test"), "the e-mail")
            for secret in theirs:
                assert secret not in mail.as_string(), (me.code, "e-mail")
    finally:
        for feed in feeds.values():
            await feed.close()
        for spoc in spocs.values():
            await spoc.aclose()


async def test_another_partners_subscription_answers_as_an_unknown_one(
    make_partner: Any,
) -> None:
    a, b = await make_partner(), await make_partner()
    spoc = await a.user()
    theirs = (await b.subscribe(area_kind="region"))["id"]
    unknown = str(uuid.uuid4())
    try:
        for method, body in (("GET", None), ("PATCH", {"name": "mine now"}), ("DELETE", None)):
            url = "/api/subscriptions/{}"
            hidden = await spoc.request(method, url.format(theirs), json=body)
            missing = await spoc.request(method, url.format(unknown), json=body)
            assert hidden.status_code == 404, (method, hidden.text)
            assert blanked(hidden, theirs) == blanked(missing, unknown), method
            assert b.code not in hidden.text
    finally:
        await spoc.aclose()
    kept = await b.coord.get(f"/api/subscriptions/{theirs}")
    assert kept.status_code == 200 and kept.json()["name"] == "test"


async def test_a_partner_subscribes_only_to_a_zone_it_may_see(
    make_partner: Any, client: httpx.AsyncClient
) -> None:
    a, b = await make_partner(), await make_partner()
    spoc = await a.user()
    lon, lat = place()

    async def zone(title: str, **props: Any) -> str:
        r = await client.post("/api/zones", json=_zone(lon, lat, title, **props))
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    internal = await zone("Hotspot interne")
    only_b = await zone("Hotspot de B", shared_with=[b.code])
    only_a = await zone("Hotspot de A", shared_with=[a.code])
    unknown = str(uuid.uuid4())

    def subscription(zone_id: str, **extra: Any) -> dict[str, Any]:
        return {"name": "Zone", "area_kind": "zone", "zone_id": zone_id, **extra}

    try:
        answers = {}
        for zone_id in (internal, only_b, unknown):
            r = await spoc.post("/api/subscriptions", json=subscription(zone_id))
            assert r.status_code == 422, r.text
            assert ["body", "zone_id"] in [e["loc"] for e in r.json()["errors"]]
            answers[zone_id] = blanked(r, zone_id)
        assert len(set(answers.values())) == 1, "hidden and unknown zones answer alike"
        assert (await spoc.post("/api/subscriptions", json=subscription(only_a))).status_code == 201
    finally:
        await spoc.aclose()
    # SITCEN cannot subscribe a partner to a zone the partner could never be alerted about.
    r = await a.coord.post("/api/subscriptions", json=subscription(only_b, organisation=a.code))
    assert r.status_code == 422, r.text
    subs = (await a.coord.get("/api/subscriptions", params={"organisation": a.code})).json()
    assert [s["zone_id"] for s in subs["subscriptions"]] == [only_a]


async def test_a_partners_rules_match_only_inside_zones_it_may_see(
    make_partner: Any, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    a, b = await make_partner(), await make_partner()
    spots = {name: place() for name in ("internal", "of B", "of A", "withdrawn")}
    shared = {"internal": [], "of B": [b.code], "of A": [a.code], "withdrawn": [a.code]}
    zones = {}
    for name, (lon, lat) in spots.items():
        body = _zone(lon, lat, f"Hotspot {name}", shared_with=shared[name])
        r = await client.post("/api/zones", json=body)
        assert r.status_code == 201, r.text
        zones[name] = r.json()["id"]
    await a.subscribe(area_kind="zone_kinds", zone_kinds=["hotspot"])
    await a.subscribe(area_kind="zone", zone_id=zones["withdrawn"])
    r = await client.patch(
        f"/api/zones/{zones['withdrawn']}",
        headers={"If-Match": '"1"'},
        json={"type": "Feature", "properties": {"shared_with": []}},
    )
    assert r.status_code == 200, r.text
    for name, (lon, lat) in spots.items():
        body = incident(lon, lat, title=f"inside the hotspot {name}")
        assert (await client.post("/api/incidents", json=body)).status_code == 201
    await caught_up(sessions)
    alerts = await alerts_of(client, a.code)
    assert [x["texts"]["en"]["headline"].split(" — ")[1] for x in alerts] == [
        "inside the hotspot of A"
    ]


async def test_a_cancel_tells_a_partner_only_what_it_was_alerted_with(
    make_partner: Any, client: httpx.AsyncClient, client_for: Any, sessions: Sessions
) -> None:
    """Withdrawn from A, then renamed, moved and deleted: A's Cancel says what A saw; B, who
    saw each step, gets its Update and a Cancel of the last state."""
    a, b = await make_partner(), await make_partner()
    lon, lat = place()
    for p in (a, b):
        await p.subscribe(area_kind="polygon", polygon=square(lon, lat, 0.002))
    body = incident(lon, lat, title="Feu vu par A", visibility="internal")
    body["properties"]["shared_with"] = [a.code, b.code]
    created = (await client.post("/api/incidents", json=body)).json()
    url = f"/api/incidents/{created['id']}"
    seen_by_a = created["geometry"]
    later = {"type": "Point", "coordinates": [lon + 0.001, lat + 0.001]}
    for version, change in enumerate(
        (
            {"properties": {"shared_with": [b.code]}},
            {"properties": {"title": "Titre secret après retrait"}, "geometry": later},
            {"properties": {"severity": "extreme"}},
        ),
        start=1,
    ):
        r = await client.patch(
            url, headers={"If-Match": f'"{version}"'}, json={"type": "Feature", **change}
        )
        assert r.status_code == 200, r.text
    assert (await client_for("adm").delete(url)).status_code == 204
    await caught_up(sessions)

    to_a = list(reversed(await alerts_of(client, a.code)))
    assert [x["msg_type"] for x in to_a] == ["Alert", "Cancel"]
    cancel = to_a[1]
    assert cancel["references"] == to_a[0]["id"]
    assert "secret" not in orjson.dumps(cancel).decode()
    assert "Feu vu par A" in cancel["texts"]["fr"]["headline"]
    assert cancel["area"] == seen_by_a
    assert cancel["severity"] == to_a[0]["severity"] == "Severe"

    to_b = list(reversed(await alerts_of(client, b.code)))
    assert [x["msg_type"] for x in to_b] == ["Alert", "Update", "Update", "Cancel"]
    assert "Titre secret après retrait" in to_b[3]["texts"]["fr"]["headline"]
    assert to_b[3]["area"] == later and to_b[3]["severity"] == "Extreme"
    assert to_b[3]["references"] == to_b[2]["id"] != cancel["id"]


async def test_an_object_that_ends_out_of_a_partners_sight_is_cancelled_as_it_saw_it(
    make_partner: Any, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    """Closing after the withdrawal ends the alert as deleting does, and says as little: the
    partner cannot tell the two apart, nor read the state it no longer sees."""
    a = await make_partner()
    lon, lat = place()
    await a.subscribe(area_kind="polygon", polygon=square(lon, lat))
    body = incident(lon, lat, title="Fuite de gaz", category="hazmat", visibility="internal")
    body["properties"]["shared_with"] = [a.code]
    url = f"/api/incidents/{(await client.post('/api/incidents', json=body)).json()['id']}"
    for version, props in enumerate(
        (
            {"shared_with": []},
            {"title": "Retiré: fausse alerte du voisin"},
            {"status": "false_alarm"},
        ),
        start=1,
    ):
        r = await client.patch(
            url, headers={"If-Match": f'"{version}"'}, json={"type": "Feature", "properties": props}
        )
        assert r.status_code == 200, r.text
    await caught_up(sessions)
    alert, cancel = reversed(await alerts_of(client, a.code))
    assert (alert["msg_type"], cancel["msg_type"]) == ("Alert", "Cancel")
    assert cancel["references"] == alert["id"]
    assert "voisin" not in orjson.dumps(cancel).decode()
    for language, text in cancel["texts"].items():
        assert text["description"] == alert["texts"][language]["description"], language


async def test_a_partner_api_key_belongs_to_an_organisation_and_reads_as_its_users(
    make_partner: Any, client: httpx.AsyncClient, client_for: Any, server: Server
) -> None:
    a, b = await make_partner(), await make_partner()
    admin: httpx.AsyncClient = client_for("adm")
    name = f"system-{a.code}"
    refused = await admin.post("/api/apikeys", json={"name": name, "role": "partner"})
    assert refused.status_code == 422, refused.text
    assert ["body", "organisation"] in [e["loc"] for e in refused.json()["errors"]]
    unknown = await admin.post(
        "/api/apikeys", json={"name": name, "role": "partner", "organisation": "t-nope"}
    )
    assert unknown.status_code == 422, unknown.text
    listed = (await admin.get("/api/apikeys")).json()["apikeys"]
    assert name not in [k["name"] for k in listed], "a refused key is not created"

    created = await admin.post(
        "/api/apikeys", json={"name": name, "role": "partner", "organisation": a.code}
    )
    assert created.status_code == 201, created.text
    assert created.json()["organisation"] == a.code

    composed = {}
    for p in (a, b):
        r = await client.post(
            "/api/alerts",
            json={
                "severity": "Moderate",
                "event": "Test",
                "texts": {"fr": {"headline": f"Pour {p.code}"}},
                "organisations": [p.code],
            },
        )
        assert r.status_code == 201, r.text
        composed[p.code] = r.json()["id"]
    hidden_from_a = incident(*place(), visibility="internal")
    hidden_from_a["properties"]["shared_with"] = [b.code]
    incident_of_b = (await client.post("/api/incidents", json=hidden_from_a)).json()["id"]
    theirs = await b.subscribe(area_kind="region")

    async with httpx.AsyncClient(
        base_url=server.url, headers={"X-API-Key": created.json()["key"]}, timeout=30
    ) as system:
        alerts = (await system.get("/api/alerts")).json()["alerts"]
        assert [x["id"] for x in alerts] == [composed[a.code]]
        atom = await system.get("/api/alerts/feed.atom")
        assert composed[a.code] in atom.text and composed[b.code] not in atom.text
        assert (await system.get(f"/api/alerts/{composed[b.code]}")).status_code == 404
        assert (await system.get(f"/api/incidents/{incident_of_b}")).status_code == 404
        assert (await system.get(f"/api/subscriptions/{theirs['id']}")).status_code == 404

        mine = await system.post("/api/subscriptions", json={"name": "API", "area_kind": "region"})
        assert mine.status_code == 201, mine.text
        assert mine.json()["organisation"] == a.code and mine.json()["created_by"] == f"key:{name}"
        subs = (await system.get("/api/subscriptions")).json()["subscriptions"]
        assert [s["id"] for s in subs] == [mine.json()["id"]]

        ack = await system.post(f"/api/alerts/{composed[a.code]}/ack")
        assert ack.status_code == 200, ack.text
        assert ack.json()["organisation"] == a.code and ack.json()["ack_via"] == "rest"
        assert (await system.post(f"/api/alerts/{composed[b.code]}/ack")).status_code == 404
    (row,) = (await client.get(f"/api/alerts/{composed[b.code]}")).json()["recipients"]
    assert row["acknowledged_at"] is None
