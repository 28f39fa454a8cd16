"""Heavy input never stalls the instance: while clients send the costliest geometry the API
takes (or refuses), every other request and WebSocket client is still answered at once.

The costly work (checking and repairing 10,000-vertex outlines) runs in a bounded thread pool,
off the event loop; before, one zig-zag repaired on the loop held every client of the instance
for seconds. What is measured is the event loop's lag as clients see it: round trips of
/api/health and of a /ws ping while heavy requests run, against the same round trips measured
idle just before and just after. The third-worst loaded round trip may exceed the worst idle
one by 100 ms, never more: a difference, not an absolute time, so that a slow or busy machine
(two shared cores) moves both alike; 100 ms is far below the seconds a stall cost, and above
what the loop's own share of the load adds (reading 300 KB bodies, writing them, a collection
of the garbage). The third-worst, because a stall on the loop happens once per heavy request
and the loaded window holds at least six of them, while the shared machine's own hiccup (a
neighbour's burst, the hypervisor) delays one probe, now and then two.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import Server, auth, eventually
from tests.realtime.conftest import open_feed
from tests.samples import circle, twisted_circle, zigzag

# Bodies of ~300 KB: the zig-zag (refused now) took 4.7 s to repair on the loop; the repaired
# circle and the valid one are written.
HEAVY = [
    ("repair=true", zigzag(9990)),
    ("repair=true", twisted_circle(9990)),
    ("", circle(9990)),
]
# Heavy requests at once: as many as the instance has threads for them by default. On the
# two-core machines the tests run on, more of them compete with the loop for the cores
# themselves (with PostgreSQL, which checks each outline against the municipalities), and
# the probes then measure the machine rather than the loop.
SENDERS = 2
PROBES = 30
# The lag a client may see on top of the idle round trip.
ALLOWED_LAG = 0.100
# Which loaded round trip is held to it: the third-worst (the docstring says why).
RANK = 3


def _body(geometry: dict[str, Any]) -> bytes:
    properties = {"title": "Contour lourd", "category": "other", "severity": "minor"}
    return json.dumps({"type": "Feature", "geometry": geometry, "properties": properties}).encode()


def _send_heavy_requests(server: Server, stop: threading.Event, done: list[int]) -> None:
    """In a thread and an event loop of its own, so that writing the bodies does not delay the
    probes that measure the server."""
    bodies = [(query, _body(geometry)) for query, geometry in HEAVY]

    async def sender(client: httpx.AsyncClient, first: int) -> None:
        i = first
        while not stop.is_set():
            query, body = bodies[i % len(bodies)]
            r = await client.post(f"/api/incidents?{query}", content=body)
            assert r.status_code in (201, 422), r.text
            done.append(r.status_code)
            i += 1

    async def main() -> None:
        headers = {**auth(server, "op"), "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=300) as c:
            await asyncio.gather(*(sender(c, n) for n in range(SENDERS)))

    asyncio.run(main())


async def _round_trips(
    probe: Callable[[], Awaitable[None]], enough: Callable[[], bool]
) -> list[float]:
    times: list[float] = []
    while len(times) < PROBES or not enough():
        start = time.perf_counter()
        await probe()
        times.append(time.perf_counter() - start)
    return times


async def test_heavy_geometry_does_not_stall_other_clients(server: Server) -> None:
    feed = await open_feed(server, filter={"entities": ["activation"]})
    health = httpx.AsyncClient(base_url=server.url, timeout=60)

    async def health_probe() -> None:
        assert (await health.get("/api/health")).status_code == 200

    async def ws_probe() -> None:
        await feed.send({"type": "ping"})
        while (await feed.next())["type"] != "pong":
            pass

    async def both(enough: Callable[[], bool]) -> tuple[list[float], list[float]]:
        h, w = await asyncio.gather(
            _round_trips(health_probe, enough), _round_trips(ws_probe, enough)
        )
        return h, w

    stop, done = threading.Event(), []
    try:
        idle_health, idle_ws = await both(lambda: True)
        load = asyncio.create_task(asyncio.to_thread(_send_heavy_requests, server, stop, done))
        await eventually(lambda: len(done) >= SENDERS or load.done(), "heavy requests")
        before = len(done)
        # Probing until each sender has had three more requests answered (or failed): at least
        # six heavy requests, each of which stalled every client before.
        loaded_health, loaded_ws = await both(
            lambda: len(done) >= before + 3 * SENDERS or load.done()
        )
        stop.set()
        await load  # raises what a sender met
        after_health, after_ws = await both(lambda: True)
    finally:
        stop.set()
        await feed.close()
        await health.aclose()

    for name, idle, loaded in (
        ("/api/health", idle_health + after_health, loaded_health),
        ("/ws ping", idle_ws + after_ws, loaded_ws),
    ):
        worst = sorted(loaded, reverse=True)
        lag = worst[RANK - 1] - max(idle)
        figures = f"{len(loaded)} probes: idle max {max(idle):.3f} s, loaded worst "
        figures += f"{', '.join(f'{t:.3f}' for t in worst[:RANK])} s, loaded median "
        figures += f"{statistics.median(loaded):.3f} s"
        assert lag < ALLOWED_LAG, f"{name} waited for heavy requests: {figures}"
    assert {201, 422} <= set(done), "heavy requests were both taken and refused"
