"""Two instances on one database, WebSocket clients on both and a writer through both; one
instance is stopped mid-burst (SIGTERM, then SIGKILL) and started again. Every client
reconnects (to the other instance or the restarted one, resuming with `since`) and receives
every change exactly once, in order; every write the writer saw acknowledged is in the feed;
writes retried with their Idempotency-Key after a cut are not doubled.

Prints the figures: changes, clients, lost, duplicated, time to reconnect p50/p99."""

from __future__ import annotations

import asyncio
import itertools
import random
import signal
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from app.settings import Settings
from tests.conftest import TIMEOUT, Server, incident, start_server, stop_server
from tests.realtime.conftest import feed_head, lines, token_for

CLIENTS_PER_INSTANCE = 3
WRITERS = 3
WRITES_BEFORE_STOP = 40
WRITES_AFTER_RESTART = 20
WRITE_PAUSE = 0.3
# Waiting for everything to settle on a loaded machine: a bound, never a speed check.
SETTLE = TIMEOUT * 6


@dataclass
class Follower:
    """A dashboard's client: follows the feed from `since`, and when its socket is closed
    (1012, or lost), reconnects at once to the next instance, then with back-off, resuming with
    `since` = the last seq it received."""

    urls: list[str]
    token: str
    last: int
    seqs: list[int] = field(default_factory=list)
    closes: list[str] = field(default_factory=list)
    reconnect_seconds: list[float] = field(default_factory=list)
    resets: list[dict[str, Any]] = field(default_factory=list)
    progressed: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        lost_at: float | None = None
        failures = 0
        for url in itertools.cycle(self.urls):
            try:
                async with connect(url, compression=None, proxy=None, open_timeout=TIMEOUT) as ws:
                    hello = {"type": "hello", "token": self.token, "since": self.last}
                    await ws.send(orjson.dumps(hello).decode())
                    async for frame in ws:
                        for message in lines(frame):
                            await self._take(ws, message)
                            if message["type"] == "welcome" and lost_at is not None:
                                self.reconnect_seconds.append(time.monotonic() - lost_at)
                                lost_at = None
                                failures = 0
                    self.closes.append(f"{ws.close_code} {ws.close_reason}")
            except ConnectionClosed as e:
                self.closes.append(f"{e.rcvd.code} {e.rcvd.reason}" if e.rcvd else "lost")
            except (OSError, TimeoutError, InvalidHandshake) as e:
                self.closes.append(type(e).__name__)
            if lost_at is None:
                lost_at = time.monotonic()
            else:
                failures += 1
                # At once to the other instance; with back-off (and jitter) once both fail.
                await asyncio.sleep(min(2.0, 0.1 * 2**failures) * random.uniform(0.5, 1.0))

    async def _take(self, ws: Any, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "ping":
            await ws.send('{"type":"pong"}')
        elif kind == "change":
            self.seqs.append(message["seq"])
            self.last = message["seq"]
            self.progressed.set()
        elif kind == "reset":
            self.resets.append(message)


@dataclass
class Writer:
    """Writes incidents through both instances, alternately. A write cut off (connection
    refused or lost, 5xx) is retried with the same Idempotency-Key through the other."""

    urls: list[str]
    token: str
    acknowledged: dict[str, str] = field(default_factory=dict)  # title -> id
    retries: int = 0
    # Set once WRITES_BEFORE_STOP writes are acknowledged: the moment to stop an instance.
    mid_burst: asyncio.Event = field(default_factory=asyncio.Event)

    async def write(self, client: httpx.AsyncClient, title: str, turn: int) -> None:
        key = f"restart-{uuid.uuid4()}"
        body = incident(title)
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}
        for attempt in itertools.count():
            url = self.urls[(turn + attempt) % len(self.urls)]
            try:
                r = await client.post(url + "/api/incidents", json=body, headers=headers)
            except httpx.TransportError:
                r = None
            if r is not None and r.status_code in (200, 201):
                self.acknowledged[title] = r.json()["id"]
                if len(self.acknowledged) >= WRITES_BEFORE_STOP:
                    self.mid_burst.set()
                return
            assert r is None or r.status_code >= 500, r.text
            self.retries += 1
            await asyncio.sleep(min(2.0, 0.05 * 2**attempt))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def feed_after(url: str, token: str, start: int, end: int) -> list[dict[str, Any]]:
    """What GET /api/changes gives an operator from `start` to `end`: what a client must get."""
    found: list[dict[str, Any]] = []
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as c:
        cursor = start
        while cursor < end:
            page = (await c.get("/api/changes", params={"since": cursor, "limit": 1000})).json()
            if not page["changes"]:
                break
            found += [ch for ch in page["changes"] if ch["seq"] <= end]
            cursor = page["changes"][-1]["seq"]
    return found


@pytest.mark.parametrize(
    "stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"]
)
async def test_an_instance_stopped_mid_burst_loses_and_doubles_nothing(
    settings: Settings, server: Server, sessions: Any, stop_signal: signal.Signals
) -> None:
    name = stop_signal.name.lower()
    env = {"SITCEN_SHUTDOWN_TIMEOUT_SECONDS": "30"}
    a, b = await asyncio.gather(
        asyncio.to_thread(start_server, settings, None, env, f"fleet-a-{name}"),
        asyncio.to_thread(start_server, settings, None, env, f"fleet-b-{name}"),
    )
    running = [a, b]
    token = await token_for(server, "op")
    start = await feed_head(sessions)
    followers = [
        Follower([own.ws_url, other.ws_url], token, start)
        for own, other in ((a, b), (b, a))
        for _ in range(CLIENTS_PER_INSTANCE)
    ]
    tasks = [asyncio.create_task(f.run()) for f in followers]
    writer = Writer([a.url, b.url], token)
    restarted = asyncio.Event()
    acked_at_restart: list[int] = []
    titles = (f"restart {name} {i}" for i in itertools.count())
    try:

        async def keep_writing(turn: int) -> None:
            async with httpx.AsyncClient(timeout=60) as client:
                for i in itertools.count(turn, WRITERS):
                    done = len(writer.acknowledged)
                    if restarted.is_set() and done >= acked_at_restart[0] + WRITES_AFTER_RESTART:
                        return
                    await writer.write(client, next(titles), i)
                    # A steady burst (about 10 writes a second in all) rather than as fast as
                    # the machine goes: the instance's restart takes a while on a loaded one.
                    await asyncio.sleep(WRITE_PAUSE)

        async def stop_and_restart() -> None:
            await writer.mid_burst.wait()
            a.process.send_signal(stop_signal)
            await asyncio.to_thread(a.process.wait, SETTLE)
            port = int(a.url.rsplit(":", 1)[1])
            again = await asyncio.to_thread(
                start_server, settings, port, env, f"fleet-a-{name}-again"
            )
            running.append(again)
            acked_at_restart.append(len(writer.acknowledged))
            restarted.set()

        await asyncio.wait_for(
            asyncio.gather(stop_and_restart(), *(keep_writing(t) for t in range(WRITERS))),
            SETTLE * 2,
        )
        end = await feed_head(sessions)

        async def caught_up() -> None:
            for f in followers:
                while f.last < end:
                    f.progressed.clear()
                    await f.progressed.wait()

        await asyncio.wait_for(caught_up(), SETTLE)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for srv in running:
            await asyncio.to_thread(stop_server, srv)

    expected = await feed_after(server.url, token, start, end)
    want = [c["seq"] for c in expected]
    lost = duplicated = 0
    for f in followers:
        got = [s for s in f.seqs if s <= end]
        counts = Counter(got)
        lost += len(set(want) - set(got))
        duplicated += sum(n - 1 for n in counts.values())
        assert not f.resets, f"a client was told to reload: {f.resets}"
        assert got == want, (
            f"a client's changes differ from the feed: lost {sorted(set(want) - set(got))[:10]}, "
            f"duplicated {[s for s, n in counts.items() if n > 1][:10]}, closes {f.closes}"
        )
    # Every acknowledged write is in the feed, once; a retried write was not made twice.
    created = Counter(
        c["feature"]["properties"]["title"]
        for c in expected
        if c["entity"] == "incident" and c["op"] == "created"
    )
    ours = {t: n for t, n in created.items() if t.startswith(f"restart {name} ")}
    assert set(writer.acknowledged) <= set(ours), "an acknowledged write is missing"
    assert all(n == 1 for n in ours.values()), {t: n for t, n in ours.items() if n > 1}
    reconnects = [s for f in followers for s in f.reconnect_seconds]
    moved = [f for f in followers[:CLIENTS_PER_INSTANCE] if f.reconnect_seconds]
    assert len(moved) == CLIENTS_PER_INSTANCE, "every client of the stopped instance reconnected"
    if stop_signal is signal.SIGTERM:
        closes = [c for f in followers[:CLIENTS_PER_INSTANCE] for c in f.closes]
        assert any(c.startswith("1012 server restart, reconnect elsewhere") for c in closes), closes
    print(
        f"\nrestart ({name}): {len(want)} changes, {len(followers)} clients, "
        f"lost {lost}, duplicated {duplicated}, "
        f"{len(writer.acknowledged)} writes acknowledged ({writer.retries} retried, "
        f"doubled {sum(n - 1 for n in ours.values())}), {len(reconnects)} reconnections, "
        f"time to reconnect p50 {percentile(reconnects, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(reconnects, 0.99) * 1000:.0f} ms"
    )
