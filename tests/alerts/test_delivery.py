"""Delivery end to end: a matching incident reaches a real webhook receiver (HMAC checked) and a
real SMTP server, retries until a failing receiver answers, dead-letters one that never does,
and a server restart mid-delivery loses and duplicates nothing."""

from __future__ import annotations

import asyncio
import signal
import threading
from typing import Any

import httpx
import pytest

from tests.alerts.conftest import (
    Inbox,
    Partner,
    Receiver,
    alerts_of,
    incident,
    place,
    settled,
    square,
)
from tests.conftest import Server, eventually, start_server


async def _subscribed_partner(
    make_partner: Any, receiver: Receiver, **hook: Any
) -> tuple[Partner, Any, tuple[float, float]]:
    partner = await make_partner()
    webhook = await partner.webhook(receiver, **hook)
    lon, lat = place()
    await partner.subscribe(area_kind="polygon", polygon=square(lon, lat), min_severity="severe")
    return partner, webhook, (lon, lat)


async def test_matching_incident_reaches_webhook_signed_and_spoc_by_mail_in_their_language(
    make_partner: Any, receiver: Receiver, inbox: Inbox, client: httpx.AsyncClient
) -> None:
    partner, webhook, (lon, lat) = await _subscribed_partner(make_partner, receiver)
    await partner.channel("email")
    await partner.contact("Jan Peeters", "nl", 0, email=f"jan@{partner.code}.test")
    await partner.contact("Marie Dubois", "fr", 1, email=f"marie@{partner.code}.test")

    r = await client.post("/api/incidents", json=incident(lon, lat, title="Brand in loods"))
    assert r.status_code == 201, r.text

    await eventually(lambda: webhook.processed, "the webhook delivery")
    assert all(req["signed"] for req in webhook.requests)
    (body,) = webhook.processed.values()
    assert body["organisation"] == partner.code
    assert body["alert"]["entity_ref"] == r.json()["properties"]["ref"]
    assert body["alert"]["severity"] == "Severe" and body["alert"]["msg_type"] == "Alert"

    mails = await eventually(lambda: inbox.to(f"jan@{partner.code}.test"), "the e-mail")
    assert len(mails) == 1 and inbox.to(f"marie@{partner.code}.test") == []
    assert mails[0]["Content-Language"] == "nl"
    assert "Brand (ernstig)" in mails[0]["Subject"]
    assert "/alerts/ack?token=" in mails[0].get_content()

    (alert,) = await alerts_of(client, partner.code)
    state = await eventually(lambda: settled(client, alert["id"]), "delivery states")
    deliveries = state["recipients"][0]["deliveries"]
    assert {d["channel"]: d["status"] for d in deliveries} == {
        "webhook": "delivered",
        "email": "delivered",
    }
    channels = (await partner.coord.get(f"/api/partners/{partner.code}")).json()["channels"]
    assert all(c["state"]["last_success_at"] and c["state"]["healthy"] for c in channels)


async def test_receiver_failing_three_times_gets_exactly_one_effective_delivery(
    make_partner: Any, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    partner, webhook, (lon, lat) = await _subscribed_partner(make_partner, receiver, fail_first=3)
    assert (await client.post("/api/incidents", json=incident(lon, lat))).status_code == 201

    (alert,) = await eventually(lambda: alerts_of(client, partner.code), "the alert")
    state = await eventually(lambda: settled(client, alert["id"]), "the delivery to settle")
    (delivery,) = state["recipients"][0]["deliveries"]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 4
    assert len(webhook.requests) == 4
    assert set(webhook.keys) == {delivery["id"]}, "every attempt carries the delivery's key"
    assert list(webhook.processed) == [delivery["id"]]


async def test_receiver_that_keeps_failing_is_dead_lettered_and_shown(
    make_partner: Any, receiver: Receiver, client_for: Any
) -> None:
    partner, webhook, (lon, lat) = await _subscribed_partner(
        make_partner, receiver, always_fail=True
    )
    coord = client_for("coord")
    assert (await coord.post("/api/incidents", json=incident(lon, lat))).status_code == 201

    (alert,) = await eventually(lambda: alerts_of(coord, partner.code), "the alert")
    state = await eventually(lambda: settled(coord, alert["id"]), "the dead letter")
    (delivery,) = state["recipients"][0]["deliveries"]
    assert delivery["status"] == "dead" and delivery["attempts"] == 5
    assert "HTTP 500" in delivery["last_error"]
    dead = (await coord.get("/api/alerts/deliveries", params={"status": "dead"})).json()
    assert delivery["id"] in [d["id"] for d in dead["deliveries"]]
    (channel,) = (await coord.get(f"/api/partners/{partner.code}")).json()["channels"]
    assert channel["state"]["healthy"] is False and "HTTP 500" in channel["state"]["last_error"]

    # The partner fixes its receiver; SITCEN sends the dead letter again.
    webhook.always_fail = False
    retried = await coord.post(f"/api/alerts/deliveries/{delivery['id']}/retry")
    assert retried.status_code == 200, retried.text
    await eventually(lambda: webhook.processed, "the retried delivery")
    assert list(webhook.processed) == [delivery["id"]]


@pytest.mark.slow
async def test_server_killed_mid_delivery_loses_and_duplicates_nothing(
    make_partner: Any, receiver: Receiver, server: Server, settings: Any, client: httpx.AsyncClient
) -> None:
    """The only instance dies (SIGKILL) while its webhooks hang; once it is back, every
    delivery arrives, each under its own key, and nothing else does."""
    hold = threading.Event()
    hooks, partners = [], []
    lon, lat = place()
    for _ in range(5):
        partner = await make_partner()
        hooks.append(await partner.webhook(receiver, hold=hold))
        await partner.subscribe(area_kind="polygon", polygon=square(lon, lat))
        partners.append(partner)
    assert (await client.post("/api/incidents", json=incident(lon, lat))).status_code == 201
    await eventually(lambda: all(h.requests for h in hooks), "sends in flight")

    port = int(server.url.rsplit(":", 1)[1])
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    hold.set()
    restarted = await _restart(settings, port)
    server.process = restarted.process

    async def delivered() -> dict[str, Any] | None:
        found = await alerts_of(client, partners[0].code)
        return await settled(client, found[0]["id"]) if found else None

    state = await eventually(delivered, "every delivery after the restart", within=40)
    by_org = {r["organisation"]: r["deliveries"] for r in state["recipients"]}
    assert sorted(by_org) == sorted(p.code for p in partners), "one alert for the five partners"
    for partner, hook in zip(partners, hooks, strict=True):
        (delivery,) = by_org[partner.code]
        assert delivery["status"] == "delivered"
        assert set(hook.keys) == {delivery["id"]}, "a resend carries the same key"
        assert list(hook.processed) == [delivery["id"]]


async def _restart(settings: Any, port: int) -> Server:
    return await asyncio.to_thread(start_server, settings, port, None, "alerts-restarted")
