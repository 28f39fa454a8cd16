"""The live stream on /ws: what a connected client receives, what its filter and its role keep
out, and how it changes its filter."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Server
from tests.realtime.conftest import Feed, open_feed, write, write_zone

BOX = [4.34, 50.84, 4.36, 50.85]  # around the Grand-Place
IN_BOX = [4.3525, 50.8467]
OUT_OF_BOX = [4.42, 50.81]  # Auderghem


async def _zone_marker(client: httpx.AsyncClient) -> str:
    """A drone-ban zone in the box: every filter of these tests lets it through, so a client
    that has received it has received everything written before it."""
    return await write_zone(client, "marker")


async def _ids_until(feed: Feed, marker: str) -> list[str]:
    """Ids of the changes received before the marker."""
    ids: list[str] = []
    while True:
        message = await feed.next()
        if message["type"] != "change":
            continue
        if message["id"] == marker:
            return ids
        ids.append(message["id"])


async def test_client_connected_before_a_write_receives_it(
    server: Server, client: httpx.AsyncClient
) -> None:
    feed = await open_feed(server)
    live = await feed.next()
    assert live["type"] == "live"
    created = await write(client, title="Feu de poubelle rue Haute")
    change = await feed.next()
    assert change["type"] == "change"
    assert change["seq"] > live["seq"]
    assert (change["entity"], change["op"], change["id"]) == ("incident", "created", created["id"])
    assert change["version"] == 1 and change["by"] == "op"
    assert change["feature"] == created
    await feed.close()


async def test_filtered_client_does_not_receive_what_its_filter_excludes(
    server: Server, client: httpx.AsyncClient
) -> None:
    filters: dict[str, dict[str, Any]] = {
        "bbox": {"bbox": BOX},
        "entity": {"entities": ["zone"]},
        "severity": {"min_severity": "severe"},
        "category": {"categories": ["fire", "drone_ban"]},
        "police zone": {"police_zones": ["5339"]},
    }
    feeds = {name: await open_feed(server, filter=f) for name, f in filters.items()}
    outside = (await write(client, point=OUT_OF_BOX, category="fire", severity="moderate"))["id"]
    severe = (await write(client, point=IN_BOX, category="fire", severity="severe"))["id"]
    minor = (await write(client, point=IN_BOX, category="traffic", severity="minor"))["id"]
    marker = await _zone_marker(client)

    received = {name: await _ids_until(feed, marker) for name, feed in feeds.items()}
    assert received == {
        "bbox": [severe, minor],
        "entity": [],
        "severity": [severe],
        "category": [outside, severe],
        "police zone": [severe, minor],
    }
    for feed in feeds.values():
        await feed.close()


async def test_change_taking_an_object_out_of_the_filter_is_delivered(
    server: Server, client: httpx.AsyncClient
) -> None:
    """A map must learn that an incident left its box, or it would show it there forever."""
    feed = await open_feed(server, filter={"bbox": BOX})
    created = await write(client, point=IN_BOX)
    moved = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": OUT_OF_BOX},
        "properties": {},
    }
    r = await client.patch(
        f"/api/incidents/{created['id']}", json=moved, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/api/incidents/{created['id']}",
        headers={"If-Match": '"2"'},
        json={"type": "Feature", "properties": {"status": "confirmed"}},
    )
    assert r.status_code == 200, r.text
    marker = await _zone_marker(client)

    # This incident's own changes: the session's other tests write in the same box.
    mine = [i for i in await _ids_until(feed, marker) if i == created["id"]]
    assert mine == [created["id"], created["id"]]
    changes = [c for c in feed.changes if c.get("id") == created["id"]]
    assert [c["version"] for c in changes] == [1, 2], "the move out is delivered, not what follows"
    assert changes[1]["feature"]["geometry"]["coordinates"] == OUT_OF_BOX
    await feed.close()


async def test_partner_receives_only_what_is_shared_with_partners(
    server: Server, client: httpx.AsyncClient
) -> None:
    feed = await open_feed(server, "part")
    internal = await write(client, visibility="internal")
    shared = await write(client, visibility="shared")
    change = await feed.next()
    while change["type"] != "change":
        change = await feed.next()
    assert change["id"] == shared["id"], f"internal incident {internal['id']} leaked to a partner"
    await feed.close()


async def test_subscribe_changes_the_filter_of_an_open_stream(
    server: Server, client: httpx.AsyncClient
) -> None:
    feed = await open_feed(server, filter={"entities": ["zone"]})
    live = await feed.next()
    await write(client, title="not for a zone watcher")
    await feed.send(
        {"type": "subscribe", "filter": {"entities": ["incident"], "min_severity": "severe"}}
    )
    subscribed = await feed.next()
    assert subscribed["filter"] == {"entities": ["incident"], "min_severity": "severe"}
    assert subscribed["seq"] >= live["seq"], "changes after this seq get the new filter"
    wanted = await write(client, title="severe one", severity="severe")
    change = await feed.next()
    assert change["id"] == wanted["id"]
    await feed.close()


async def test_client_ping_is_answered_with_pong(server: Server) -> None:
    feed = await open_feed(server)
    assert (await feed.next())["type"] == "live"
    await feed.send({"type": "ping"})
    assert await feed.next() == {"type": "pong"}
    await feed.close()
