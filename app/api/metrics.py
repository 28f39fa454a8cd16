"""This instance's counters: `GET /api/metrics` in the Prometheus text format (0.0.4, or
OpenMetrics when the scraper asks for it), for the monitoring that watches the watch (the live
feed, its WebSocket clients, partner alerting, the background loops, the database pool, and the
histograms of app.metrics), and `GET /api/realtime/metrics`, the hub's and the listener's as
JSON. Each instance answers for itself; Prometheus scrapes every one. prometheus_client writes
the exposition, from the instance's own registry (app.metrics).

Admins only (`audit:read`); a scraper sends an API key with Prometheus' `http_headers`
(docs/realtime.md §11).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Header
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.pool import AsyncAdaptedQueuePool
from starlette.responses import Response

from app.api.deps import RuntimeDep, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.background import Loop
from app.feeds.service import feed_health
from app.runtime import Runtime

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
router = APIRouter(tags=["metrics"], route_class=Route)


def _gauge(name: str, help: str, value: float | None = None, *labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help, value=value, labels=labels or None)


def _counter(name: str, help: str, value: float | None = None, *labels: str) -> CounterMetricFamily:
    return CounterMetricFamily(name, help, value=value, labels=labels or None)


class RuntimeCollector(Collector):
    """The runtime's own counters and gauges, read from its parts at each scrape (the hub, the
    listener, the pool, the background loops, alerting): prometheus_client's custom collector,
    registered in the instance's registry by the lifespan (app.main)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        runtime = self.runtime
        hub = runtime.hub.metrics()
        listener = runtime.feed_listener.status()
        # make_engine sizes a QueuePool (app.db), the asyncio kind of it.
        pool = cast(AsyncAdaptedQueuePool, runtime.engine.sync_engine.pool)
        live = hub.connected - hub.replaying
        yield _gauge(
            "sitcen_feed_head", "Seq of the last change this instance published.", hub.head
        )
        yield _counter(
            "sitcen_feed_published_total", "Changes fanned out since start.", hub.published
        )
        lag = _gauge(
            "sitcen_feed_publish_lag_seconds",
            "Commit-to-fan-out time over the last 10,000 changes, by quantile.",
            None,
            "quantile",
        )
        lag.add_metric(["0.5"], hub.publish_lag_ms_p50 / 1000)
        lag.add_metric(["0.99"], hub.publish_lag_ms_p99 / 1000)
        yield lag
        yield _gauge(
            "sitcen_feed_listener_up", "1 while the LISTEN connection is up.", listener.listening
        )
        yield _counter(
            "sitcen_feed_listener_reconnects_total",
            "Times the LISTEN connection was lost and made again.",
            listener.reconnects,
        )
        yield _counter("sitcen_feed_reads_total", "Reads of the change feed.", listener.reads)
        clients = _gauge(
            "sitcen_ws_clients", "WebSocket clients past their hello, by state.", None, "state"
        )
        clients.add_metric(["live"], live)
        clients.add_metric(["replaying"], hub.replaying)
        yield clients
        yield _gauge(
            "sitcen_ws_queue_depth",
            "Messages waiting in the clients' outboxes.",
            hub.queue_depth_sum,
        )
        yield _gauge(
            "sitcen_ws_queue_depth_max",
            "Messages waiting in the fullest outbox.",
            hub.queue_depth_max,
        )
        yield _counter("sitcen_ws_messages_sent_total", "Messages sent to clients.", hub.sent)
        yield _counter("sitcen_ws_frames_sent_total", "Frames that carried them.", hub.frames)
        dropped = _counter(
            "sitcen_ws_clients_dropped_total",
            "Clients closed for falling behind (4008) or not answering pings (4009).",
            None,
            "reason",
        )
        dropped.add_metric(["slow"], hub.dropped_slow)
        dropped.add_metric(["ping"], hub.dropped_ping)
        yield dropped
        connections = _gauge(
            "sitcen_db_pool_connections", "Database pool connections, by state.", None, "state"
        )
        connections.add_metric(["in_use"], pool.checkedout())
        connections.add_metric(["idle"], pool.checkedin())
        yield connections
        yield from _loop_families(runtime.loops)
        alerting = runtime.alerting
        if alerting is not None:
            a = alerting.status()
            yield _gauge(
                "sitcen_alerts_listener_up",
                "1 while alerting's LISTEN connection is up.",
                int(a["listening"]),
            )
            yield _counter(
                "sitcen_alerts_evaluated_batches_total",
                "Batches of changes evaluated against the alert rules.",
                a["evaluated_batches"],
            )
            deliveries = _counter(
                "sitcen_alerts_deliveries_total", "Alert deliveries, by outcome.", None, "outcome"
            )
            deliveries.add_metric(["sent"], a["sent"])
            deliveries.add_metric(["failed_attempt"], a["failed_attempts"])
            yield deliveries
            yield _counter(
                "sitcen_alerts_pushed_total", "Alerts pushed to partners' sockets.", a["pushed"]
            )


def _external_feed_families(sources: list[dict[str, Any]]) -> list[Metric]:
    """The external CAP feeds (app.feeds): read from the database, so every instance answers
    the same figures (the poll runs on one at a time)."""
    up = _gauge(
        "sitcen_external_feed_up", "1 while a feed source's last poll succeeded.", None, "source"
    )
    failures = _gauge(
        "sitcen_external_feed_failures",
        "Consecutive failed polls of a feed source.",
        None,
        "source",
    )
    messages = _counter(
        "sitcen_external_feed_messages",
        "CAP messages of a feed source, by outcome: ingested, ignored (outside the area, not "
        "operational), rejected (refused by the CAP ingest).",
        None,
        "source",
        "outcome",
    )
    status = _gauge(
        "sitcen_external_feed_last_http_status",
        "HTTP status of a feed source's last poll (0: no answer).",
        None,
        "source",
    )
    success = _gauge(
        "sitcen_external_feed_last_success_timestamp_seconds",
        "When a feed source was last polled successfully (Unix time).",
        None,
        "source",
    )
    error = _gauge(
        "sitcen_external_feed_last_error_timestamp_seconds",
        "When a feed source's poll last failed (Unix time).",
        None,
        "source",
    )
    for s in sources:
        if not s["enabled"]:
            continue
        name = s["name"]
        up.add_metric([name], int(s["up"]))
        failures.add_metric([name], s["failures"])
        for outcome, count in s["messages"].items():
            messages.add_metric([name, outcome], count)
        status.add_metric([name], s["last_status"] or 0)
        if s["last_success"] is not None:
            success.add_metric([name], float(s["last_success"]))
        if s["last_error"] is not None:
            error.add_metric([name], float(s["last_error"]))
    return [up, failures, messages, status, success, error]


def _loop_families(loops: Iterable[Loop]) -> list[Metric]:
    """The background loops (app.background): whether each runs, its steps, its failures by
    cause, and the items it set aside."""
    up = _gauge("sitcen_worker_up", "1 while a background loop runs.", None, "worker")
    steps = _counter(
        "sitcen_worker_steps_total", "Steps a background loop completed.", None, "worker"
    )
    errors = _counter(
        "sitcen_worker_errors_total",
        "Failed steps of a background loop, by cause: the database unreachable, or unexpected "
        "(logged with its traceback).",
        None,
        "worker",
        "cause",
    )
    dead = _counter(
        "sitcen_worker_dead_letters_total",
        "Items a background loop set aside after repeated failures (dead letters).",
        None,
        "worker",
    )
    for loop in sorted(loops, key=lambda x: x.name):
        s = loop.stats
        up.add_metric([s.name], int(s.running))
        steps.add_metric([s.name], s.steps)
        errors.add_metric([s.name, "unexpected"], s.unexpected)
        errors.add_metric([s.name, "database_unreachable"], s.unreachable)
        dead.add_metric([s.name], s.dead_letters)
    return [up, steps, errors, dead]


@router.get(
    "/api/metrics",
    tags=["metrics"],
    summary="This instance's counters, Prometheus text format",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}},
)
async def metrics(
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(require("audit:read"))],
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    # The external feeds' health is in the database (every instance answers the same figures).
    feeds = _external_feed_families(await feed_health(runtime.sessions))
    body, media_type = runtime.metrics.exposition(accept, feeds)
    return Response(body, media_type=media_type)


@router.get("/api/realtime/metrics", tags=["realtime"], summary="Counters of this instance's hub")
async def realtime_metrics(
    runtime: RuntimeDep, _: Annotated[Principal, Depends(require("audit:read"))]
) -> Response:
    body = {
        **runtime.hub.metrics().as_dict(),
        "listener": asdict(runtime.feed_listener.status()),
    }
    return json_response(body)
