"""This instance's counters: `GET /api/metrics` in the Prometheus text format (0.0.4), for the
monitoring that watches the watch (the live feed, its WebSocket clients, partner alerting, the
background loops and the database pool), and `GET /api/realtime/metrics`, the hub's and the
listener's as JSON. Each instance answers for itself; Prometheus scrapes every one.

Admins only (`audit:read`); a scraper sends an API key with Prometheus' `http_headers`
(docs/realtime.md §11).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends
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

Labels = dict[str, str]


@dataclass
class Family:
    name: str
    kind: str  # counter | gauge
    help: str
    samples: list[tuple[Labels, float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> Family:
        self.samples.append((labels, value))
        return self


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(families: Iterable[Family]) -> str:
    lines: list[str] = []
    for f in families:
        lines.append(f"# HELP {f.name} {f.help}")
        lines.append(f"# TYPE {f.name} {f.kind}")
        for labels, value in f.samples:
            number = repr(value) if isinstance(value, float) else str(int(value))
            tags = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            lines.append(f"{f.name}{{{tags}}} {number}" if tags else f"{f.name} {number}")
    return "\n".join(lines) + "\n"


def _families(runtime: Runtime) -> list[Family]:
    hub = runtime.hub.metrics()
    listener = runtime.feed_listener.status()
    # make_engine sizes a QueuePool (app.db), the asyncio kind of it.
    pool = cast(AsyncAdaptedQueuePool, runtime.engine.sync_engine.pool)
    live = hub.connected - hub.replaying
    families = [
        Family("sitcen_feed_head", "gauge", "Seq of the last change this instance published.").add(
            hub.head
        ),
        Family("sitcen_feed_published_total", "counter", "Changes fanned out since start.").add(
            hub.published
        ),
        Family(
            "sitcen_feed_publish_lag_seconds",
            "gauge",
            "Commit-to-fan-out time over the last 10,000 changes, by quantile.",
        )
        .add(hub.publish_lag_ms_p50 / 1000, quantile="0.5")
        .add(hub.publish_lag_ms_p99 / 1000, quantile="0.99"),
        Family("sitcen_feed_listener_up", "gauge", "1 while the LISTEN connection is up.").add(
            int(listener.listening)
        ),
        Family(
            "sitcen_feed_listener_reconnects_total",
            "counter",
            "Times the LISTEN connection was lost and made again.",
        ).add(listener.reconnects),
        Family("sitcen_feed_reads_total", "counter", "Reads of the change feed.").add(
            listener.reads
        ),
        Family("sitcen_ws_clients", "gauge", "WebSocket clients past their hello, by state.")
        .add(live, state="live")
        .add(hub.replaying, state="replaying"),
        Family("sitcen_ws_queue_depth", "gauge", "Messages waiting in the clients' outboxes.").add(
            hub.queue_depth_sum
        ),
        Family("sitcen_ws_queue_depth_max", "gauge", "Messages waiting in the fullest outbox.").add(
            hub.queue_depth_max
        ),
        Family("sitcen_ws_messages_sent_total", "counter", "Messages sent to clients.").add(
            hub.sent
        ),
        Family("sitcen_ws_frames_sent_total", "counter", "Frames that carried them.").add(
            hub.frames
        ),
        Family(
            "sitcen_ws_clients_dropped_total",
            "counter",
            "Clients closed for falling behind (4008) or not answering pings (4009).",
        )
        .add(hub.dropped_slow, reason="slow")
        .add(hub.dropped_ping, reason="ping"),
        Family("sitcen_db_pool_connections", "gauge", "Database pool connections, by state.")
        .add(pool.checkedout(), state="in_use")
        .add(pool.checkedin(), state="idle"),
    ]
    families += _loop_families(runtime.loops)
    alerting = runtime.alerting
    if alerting is not None:
        a = alerting.status()
        families += [
            Family(
                "sitcen_alerts_listener_up", "gauge", "1 while alerting's LISTEN connection is up."
            ).add(int(a["listening"])),
            Family(
                "sitcen_alerts_evaluated_batches_total",
                "counter",
                "Batches of changes evaluated against the alert rules.",
            ).add(a["evaluated_batches"]),
            Family("sitcen_alerts_deliveries_total", "counter", "Alert deliveries, by outcome.")
            .add(a["sent"], outcome="sent")
            .add(a["failed_attempts"], outcome="failed_attempt"),
            Family(
                "sitcen_alerts_pushed_total", "counter", "Alerts pushed to partners' sockets."
            ).add(a["pushed"]),
        ]
    return families


def _external_feed_families(sources: list[dict[str, Any]]) -> list[Family]:
    """The external CAP feeds (app.feeds): read from the database, so every instance answers
    the same figures (the poll runs on one at a time)."""
    up = Family("sitcen_external_feed_up", "gauge", "1 while a feed source's last poll succeeded.")
    failures = Family(
        "sitcen_external_feed_failures", "gauge", "Consecutive failed polls of a feed source."
    )
    messages = Family(
        "sitcen_external_feed_messages_total",
        "counter",
        "CAP messages of a feed source, by outcome: ingested, ignored (outside the area, not "
        "operational), rejected (refused by the CAP ingest).",
    )
    status = Family(
        "sitcen_external_feed_last_http_status",
        "gauge",
        "HTTP status of a feed source's last poll (0: no answer).",
    )
    success = Family(
        "sitcen_external_feed_last_success_timestamp_seconds",
        "gauge",
        "When a feed source was last polled successfully (Unix time).",
    )
    error = Family(
        "sitcen_external_feed_last_error_timestamp_seconds",
        "gauge",
        "When a feed source's poll last failed (Unix time).",
    )
    for s in sources:
        if not s["enabled"]:
            continue
        name = s["name"]
        up.add(int(s["up"]), source=name)
        failures.add(s["failures"], source=name)
        for outcome, count in s["messages"].items():
            messages.add(count, source=name, outcome=outcome)
        status.add(s["last_status"] or 0, source=name)
        if s["last_success"] is not None:
            success.add(float(s["last_success"]), source=name)
        if s["last_error"] is not None:
            error.add(float(s["last_error"]), source=name)
    return [up, failures, messages, status, success, error]


def _loop_families(loops: Iterable[Loop]) -> list[Family]:
    """The background loops (app.background): whether each runs, its steps, its failures by
    cause, and the items it set aside."""
    up = Family("sitcen_worker_up", "gauge", "1 while a background loop runs.")
    steps = Family("sitcen_worker_steps_total", "counter", "Steps a background loop completed.")
    errors = Family(
        "sitcen_worker_errors_total",
        "counter",
        "Failed steps of a background loop, by cause: the database unreachable, or unexpected "
        "(logged with its traceback).",
    )
    dead = Family(
        "sitcen_worker_dead_letters_total",
        "counter",
        "Items a background loop set aside after repeated failures (dead letters).",
    )
    for loop in sorted(loops, key=lambda x: x.name):
        s = loop.stats
        up.add(int(s.running), worker=s.name)
        steps.add(s.steps, worker=s.name)
        errors.add(s.unexpected, worker=s.name, cause="unexpected")
        errors.add(s.unreachable, worker=s.name, cause="database_unreachable")
        dead.add(s.dead_letters, worker=s.name)
    return [up, steps, errors, dead]


@router.get(
    "/api/metrics",
    tags=["metrics"],
    summary="This instance's counters, Prometheus text format",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}},
)
async def metrics(
    runtime: RuntimeDep, _: Annotated[Principal, Depends(require("audit:read"))]
) -> Response:
    families = _families(runtime) + _external_feed_families(await feed_health(runtime.sessions))
    return Response(render(families), media_type=CONTENT_TYPE)


@router.get("/api/realtime/metrics", tags=["realtime"], summary="Counters of this instance's hub")
async def realtime_metrics(
    runtime: RuntimeDep, _: Annotated[Principal, Depends(require("audit:read"))]
) -> Response:
    body = {
        **runtime.hub.metrics().as_dict(),
        "listener": asdict(runtime.feed_listener.status()),
    }
    return json_response(body)
