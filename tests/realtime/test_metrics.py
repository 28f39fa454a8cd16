"""The hub's counters, readable by admins (exposed at /metrics later)."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.realtime.conftest import metrics, open_feed, write


async def test_metrics_count_clients_messages_and_the_feed_head(
    server: Server, client: httpx.AsyncClient
) -> None:
    before = await metrics(server)
    feeds = [await open_feed(server) for _ in range(3)]
    for feed in feeds:
        assert (await feed.next())["type"] == "live"
    created = await write(client)
    seqs = {(await feed.next())["seq"] for feed in feeds}
    after = await metrics(server)

    assert after["connected"] >= 3
    assert after["sent"] - before["sent"] >= 3 * 3, "welcome, live and the change, to each"
    assert after["head"] == seqs.pop() and after["published"] > before["published"]
    assert after["queue_depth_max"] >= 0 and after["queue_depth_sum"] >= 0
    assert {"dropped_slow", "dropped_ping"} <= after.keys()
    assert after["listener"]["listening"] is True
    assert created["id"]
    for feed in feeds:
        await feed.close()


async def test_metrics_are_for_admins_only(server: Server, client: httpx.AsyncClient) -> None:
    r = await client.get("/api/realtime/metrics")
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
