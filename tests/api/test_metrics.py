"""GET /api/metrics: Prometheus text format, read with Prometheus' own Python parser."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from app.metrics import Metrics
from app.settings import PROJECT_ROOT
from tests.conftest import eventually, incident
from tests.realtime.conftest import open_feed, write


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


def _count(family: Any, **labels: str) -> float:
    """A histogram's observation count (its `_count` sample) for these labels, 0 if none yet."""
    found = [
        s.value
        for s in family.samples
        if s.name == f"{family.name}_count" and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    return float(sum(found))


async def test_request_durations_are_histograms_by_route_template_and_status(
    client_for: Any,
) -> None:
    admin, op = client_for("adm"), client_for("op")
    created = await op.post("/api/incidents", json=incident("Histogram"))
    object_id = created.json()["id"]
    before = await _scrape(admin)
    for _ in range(3):
        assert (await op.get(f"/api/incidents/{object_id}")).status_code == 200
    unknown = "00000000-0000-7000-8000-000000000000"
    assert (await op.get(f"/api/incidents/{unknown}")).status_code == 404
    after = await _scrape(admin)

    family = after["sitcen_http_request_duration_seconds"]
    assert family.type == "histogram"
    route = {"method": "GET", "route": "/api/incidents/{object_id}"}
    counted = _count(family, status="200", **route) - _count(
        before["sitcen_http_request_duration_seconds"], status="200", **route
    )
    assert counted == 3
    assert _count(family, status="404", **route) >= 1
    # No label holds an id: the route is the template, whatever the path.
    assert not [s for s in family.samples if object_id in s.labels.get("route", "")]
    (inf,) = [
        s
        for s in family.samples
        if s.name.endswith("_bucket")
        and s.labels["le"] == "+Inf"
        and s.labels.get("status") == "200"
        and all(s.labels.get(k) == v for k, v in route.items())
    ]
    assert inf.value == _count(family, status="200", **route)
    # Those requests took connections from the pool: each checkout's time is observed.
    pool = "sitcen_db_pool_wait_seconds"
    assert after[pool].type == "histogram"
    assert _count(after[pool]) >= _count(before[pool]) + 4


async def test_websocket_send_queue_depth_is_observed_at_each_frame(
    server: Any, client_for: Any
) -> None:
    admin = client_for("adm")
    before = await _scrape(admin)
    feed = await open_feed(server)
    assert (await feed.next())["type"] == "live"
    created = await write(client_for("op"))
    while (change := await feed.next())["type"] != "change":
        pass
    assert change["id"] == created["id"]
    await feed.close()
    after = await _scrape(admin)

    name = "sitcen_ws_send_queue_depth"
    assert after[name].type == "histogram"
    # welcome, live, the change: at least three frames taken from the client's outbox.
    assert _count(after[name]) >= _count(before[name]) + 3
    buckets = [s for s in after[name].samples if s.name == f"{name}_bucket"]
    assert buckets[-1].labels["le"] == "+Inf" and float(buckets[-2].labels["le"]) == 1000


async def test_two_apps_in_one_process_count_apart() -> None:
    """A registry per app: the second app's instruments neither clash with nor add to the
    first's (prometheus_client's global registry would refuse the second)."""
    one, two = Metrics(), Metrics()
    one.http_request_duration.labels("GET", "/x", "200").observe(0.01)
    body, media_type = two.exposition(None)
    assert media_type == "text/plain; version=0.0.4; charset=utf-8"
    assert b'route="/x"' not in body
    assert (
        b'sitcen_http_request_duration_seconds_count{method="GET",route="/x",status="200"} 1.0'
        in (one.exposition(None)[0])
    )


async def test_another_module_adds_its_own_metrics_to_the_registry() -> None:
    """How a module adds its own (the external feeds' health, say): an instrument made in the
    instance's registry, or a collector reading its state at each scrape."""
    metrics = Metrics()
    polls = metrics.counter("sitcen_test_polls_total", "Polls.", ("source",))
    polls.labels("meteo").inc()

    class Health(Collector):
        def collect(self) -> Iterator[Metric]:
            yield GaugeMetricFamily("sitcen_test_source_up", "1 while it answers.", value=1)

    metrics.register(Health())
    families = {
        f.name: f for f in text_string_to_metric_families(metrics.exposition(None)[0].decode())
    }
    assert _value(families["sitcen_test_polls"], source="meteo") == 1
    assert _value(families["sitcen_test_source_up"]) == 1
    # OpenMetrics when a scraper asks for it.
    _, media_type = metrics.exposition("application/openmetrics-text; version=1.0.0")
    assert media_type.startswith("application/openmetrics-text")


async def test_the_grafana_dashboard_reads_what_the_service_exposes(client_for: Any) -> None:
    """docs/grafana/sitcen.json: a dashboard Grafana imports (its required fields, a panel
    per concern, unique ids), whose every query names metrics this service exposes."""
    dashboard = json.loads((PROJECT_ROOT / "docs" / "grafana" / "sitcen.json").read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    queries = [t["expr"] for p in panels if p["type"] != "row" for t in p["targets"]]
    assert all(p["gridPos"]["w"] <= 24 for p in panels)
    for query in queries:
        assert query.count("(") == query.count(")") and query.count("{") == query.count("}")
    used = {
        re.sub(r"_(bucket|count|sum|total)$", "", name)
        for query in queries
        for name in re.findall(r"\bsitcen_[a-z0-9_]+", query)
    }
    exposed = set(await _scrape(client_for("adm")))
    assert used <= exposed, used - exposed
    for wanted in (
        "sitcen_http_request_duration_seconds",
        "sitcen_db_pool_wait_seconds",
        "sitcen_ws_send_queue_depth",
        "sitcen_ws_clients",
        "sitcen_alert_delivery_latency_seconds",
        "sitcen_feed_publish_lag_seconds",
    ):
        assert wanted in used
