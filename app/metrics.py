"""This app instance's Prometheus metrics: one registry per app, never prometheus_client's global
one, so that two apps in one process (tests, a benchmark) count apart, and the instruments the
service observes (histograms of request duration, pool wait, WebSocket send-queue depth and
alert delivery latency).

A module that counts something of its own (an external feed's health, say) adds it here at
start: `metrics.counter(...)`, `metrics.gauge(...)`, `metrics.histogram(...)` make an instrument
in this registry; `metrics.register(collector)` adds a prometheus_client custom collector, whose
`collect()` reads the module's own state at each scrape. `GET /api/metrics` (app.api.metrics)
renders the registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

# Seconds: from a cached read (sub-millisecond) to a heavy export or PDF (tens of seconds).
DURATION_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
# Seconds a request waits for a pool connection: nothing at all, unless the pool runs dry.
POOL_WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0)
# Alert delivery, creation to the receiver's answer: seconds when all is well, minutes to hours
# through retries (app.alerts.workers.delivery).
DELIVERY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


def depth_buckets(queue_size: int) -> tuple[float, ...]:
    """Messages waiting in an outbox, up to the size at which its client is cut off (4008)."""
    steps = [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
    return (*(float(n) for n in steps if n < queue_size), float(queue_size))


class Metrics:
    def __init__(self, ws_queue_size: int = 1000) -> None:
        self.registry = CollectorRegistry()
        self.http_request_duration = self.histogram(
            "sitcen_http_request_duration_seconds",
            "HTTP requests answered, by method, route template and status: time from the "
            "request's arrival to the end of its answer.",
            ("method", "route", "status"),
            DURATION_BUCKETS,
        )
        self.db_pool_wait = self.histogram(
            "sitcen_db_pool_wait_seconds",
            "Time taken to get a connection from the database pool (a new connection's "
            "opening included).",
            (),
            POOL_WAIT_BUCKETS,
        )
        self.ws_send_queue_depth = self.histogram(
            "sitcen_ws_send_queue_depth",
            "Messages waiting in a WebSocket client's outbox each time its sender takes the "
            "next frame: 1 when the client keeps up.",
            (),
            depth_buckets(ws_queue_size),
        )
        self.alert_delivery_latency = self.histogram(
            "sitcen_alert_delivery_latency_seconds",
            "Alert deliveries made, from the delivery's creation to the receiver's acceptance, "
            "retries included, by channel.",
            ("channel",),
            DELIVERY_BUCKETS,
        )

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(name, documentation, labels, registry=self.registry)

    def histogram(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = DURATION_BUCKETS,
    ) -> Histogram:
        return Histogram(name, documentation, labels, registry=self.registry, buckets=buckets)

    def register(self, collector: Collector) -> None:
        self.registry.register(collector)

    def unregister(self, collector: Collector) -> None:
        self.registry.unregister(collector)

    def exposition(self, accept: str | None, extra: Iterable[Metric] = ()) -> tuple[bytes, str]:
        """The registry in the format the scraper's Accept asks for (Prometheus' text format
        0.0.4 by default, OpenMetrics on request) and its media type; `extra`, families read
        asynchronously before the scrape (from the database), written out with the rest."""
        encode, media_type = choose_encoder(accept or "")
        return encode(_WithExtra(self.registry, list(extra))), media_type


class _WithExtra:
    """A registry and families of this scrape only, as the encoders read a registry."""

    def __init__(self, registry: CollectorRegistry, extra: list[Metric]) -> None:
        self._registry = registry
        self._extra = extra

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()
        yield from self._extra
