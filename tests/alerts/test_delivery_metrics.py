"""The alert delivery latency histogram of /api/metrics, observed by real deliveries to a real
webhook receiver: one made at once, one made after the receiver failed twice."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.alerts.conftest import Receiver, alerts_of, incident, place, settled, square
from tests.conftest import eventually

NAME = "sitcen_alert_delivery_latency_seconds"


async def _webhook_latencies(admin: httpx.AsyncClient) -> tuple[float, float]:
    """The webhook channel's count of deliveries made and the sum of their latencies."""
    r = await admin.get("/api/metrics")
    assert r.status_code == 200
    (family,) = [f for f in text_string_to_metric_families(r.text) if f.name == NAME]
    assert family.type == "histogram"
    webhook = [s for s in family.samples if s.labels.get("channel") == "webhook"]
    count = sum(s.value for s in webhook if s.name == f"{NAME}_count")
    total = sum(s.value for s in webhook if s.name == f"{NAME}_sum")
    return count, total


async def test_each_delivery_made_is_observed_from_its_creation_to_the_receivers_answer(
    make_partner: Any, receiver: Receiver, client: httpx.AsyncClient, client_for: Any
) -> None:
    admin = client_for("adm")
    prompt, retried = await make_partner(), await make_partner()
    await prompt.webhook(receiver)
    await retried.webhook(receiver, fail_first=2)
    lon, lat = place()
    for partner in (prompt, retried):
        await partner.subscribe(
            area_kind="polygon", polygon=square(lon, lat), min_severity="severe"
        )
    count, total = await _webhook_latencies(admin)

    assert (await client.post("/api/incidents", json=incident(lon, lat))).status_code == 201
    for partner in (prompt, retried):
        (alert,) = await eventually(lambda p=partner: alerts_of(client, p.code), "the alert")
        state = await eventually(lambda a=alert: settled(client, a["id"]), "the delivery")
        (delivery,) = state["recipients"][0]["deliveries"]
        assert delivery["status"] == "delivered"

    async def observed() -> tuple[float, float] | None:
        now = await _webhook_latencies(admin)
        return now if now[0] >= count + 2 else None

    after_count, after_total = await eventually(observed, "both deliveries observed")
    assert after_count == count + 2
    # The retried one waited for its two retries: the latencies add up to more than nothing.
    assert after_total > total
