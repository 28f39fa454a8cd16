"""GET /api/metrics: Prometheus text format, read with Prometheus' own Python parser."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import eventually, incident


async def _scrape(admin: Any) -> dict[str, Any]:
    r = await admin.get("/api/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {f.name: f for f in text_string_to_metric_families(r.text)}


def _value(family: Any, **labels: str) -> float:
    (sample,) = [s for s in family.samples if all(s.labels.get(k) == v for k, v in labels.items())]
    return float(sample.value)


async def test_metrics_parse_and_follow_the_feed(client_for: Any) -> None:
    admin = client_for("adm")
    before = await _scrape(admin)
    assert before["sitcen_feed_listener_up"].type == "gauge"
    assert _value(before["sitcen_feed_listener_up"]) == 1
    # prometheus_client names a counter's family without its _total suffix.
    assert before["sitcen_feed_published"].type == "counter"
    assert {s.labels["state"] for s in before["sitcen_ws_clients"].samples} == {"live", "replaying"}
    assert {s.labels["reason"] for s in before["sitcen_ws_clients_dropped"].samples} == {
        "slow",
        "ping",
    }
    assert _value(before["sitcen_db_pool_connections"], state="in_use") >= 1  # this request's
    # Every background loop of the instance, each running.
    loops = {s.labels["worker"]: s.value for s in before["sitcen_worker_up"].samples}
    assert {"feed-listen", "alerts-evaluate", "alerts-deliver", "alerts-escalate"} <= set(loops)
    assert set(loops.values()) == {1}
    causes = {s.labels["cause"] for s in before["sitcen_worker_errors"].samples}
    assert causes == {"unexpected", "database_unreachable"}
    assert before["sitcen_worker_dead_letters"].type == "counter"

    created = await client_for("op").post("/api/incidents", json=incident("Metrics"))
    assert created.status_code == 201
    head = (await admin.get("/api/changes", params={"limit": 1})).json()["head"]

    async def caught_up() -> dict[str, Any] | None:
        scraped = await _scrape(admin)
        return scraped if _value(scraped["sitcen_feed_head"]) >= head else None

    after = await eventually(caught_up, "the feed head to reach the write")
    assert _value(after["sitcen_feed_published"]) > _value(before["sitcen_feed_published"])


async def test_metrics_are_for_admins(client_for: Any) -> None:
    assert (await client_for("op").get("/api/metrics")).status_code == 403
