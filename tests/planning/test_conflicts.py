"""Deconfliction in space and time (issue 18, §3): the conflicts the API lists are those a
brute-force check finds, found with the indexes; the filters; the acknowledgement in the feed,
re-opened when the overlap moves; the live flag on /ws; partner alerts and scope."""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import driver
from app.domain import conflict
from tests.conftest import Server, eventually
from tests.planning.generated import Planned, expected, generate, utc
from tests.realtime.conftest import open_feed
from tests.samples import feature, square

PATHS = {"planned_event": "events", "demonstration": "demonstrations", "zone": "zones"}
DAY = {"starts_at": "2031-05-14T10:00:00+02:00", "ends_at": "2031-05-14T18:00:00+02:00"}


async def _create(client: httpx.AsyncClient, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(f"/api/{PATHS[entity]}", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _all(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every page of the conflicts list."""
    found: list[dict[str, Any]] = []
    url: str | None = "/api/conflicts"
    query: dict[str, Any] | None = {"limit": 1000, **params}
    while url:
        r = await client.get(url, params=query)
        assert r.status_code == 200, r.text
        body = r.json()
        found += body["features"]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        query = None
    return found


def _pair(c: dict[str, Any]) -> tuple[str, str]:
    a, b = c["properties"]["objects"]
    return a["id"], b["id"]


def _unique_place() -> tuple[float, float]:
    """A spot of its own in the city for one test's shapes (the session's other tests draw
    theirs elsewhere, at other times)."""
    n = uuid.uuid4().int
    return 4.30 + (n % 1000) * 0.0001, 50.80 + (n // 1000 % 700) * 0.0001


async def _create_all(client: httpx.AsyncClient, objects: list[Planned]) -> None:
    gate = asyncio.Semaphore(8)

    async def one(o: Planned) -> None:
        async with gate:
            o.id = (await _create(client, o.entity, o.body))["id"]
            if o.later:
                r = await client.patch(
                    f"/api/{PATHS[o.entity]}/{o.id}",
                    json={"type": "Feature", "properties": o.later},
                    headers={"If-Match": '"1"'},
                )
                assert r.status_code == 200, r.text

    await asyncio.gather(*(one(o) for o in objects))


@pytest.fixture(scope="module")
async def generated(server: Server) -> list[Planned]:
    headers = {"Authorization": f"Bearer {server.tokens['op']}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as client:
        base = datetime(2033, 3, 1, 6, tzinfo=UTC)
        events, demonstrations, zones = generate(20261207, base, 100, f"gen-{uuid.uuid4().hex[:6]}")
        await _create_all(client, events + demonstrations)
        for z in zones:
            p = z.body["properties"]
            if "parent_id" in p:
                parents = events if p["parent_entity"] == "planned_event" else demonstrations
                p["parent_id"] = parents[p["parent_id"]].id
        await _create_all(client, zones)
    return events + demonstrations + zones


async def test_conflicts_found_are_those_of_a_brute_force_check(
    client: httpx.AsyncClient, generated: list[Planned]
) -> None:
    ids = {o.id for o in generated}
    window = {"start": "2033-03-01T00:00:00Z", "end": "2033-03-15T00:00:00Z"}
    listed = [c for c in await _all(client, exercise="true", **window) if set(_pair(c)) <= ids]
    want = expected(generated)
    assert len(want) > 100, "the generated picture holds enough conflicts to compare"
    assert {_pair(c) for c in listed} == set(want)
    assert len(listed) == len(want), "each conflict once"
    for c in listed:
        p, w = c["properties"], want[_pair(c)]
        assert (utc(p["overlap_from"]), utc(p["overlap_to"])) == (w["from"], w["to"])
        assert math.isclose(p["area_m2"], w["area_m2"], rel_tol=0.01, abs_tol=1.0)
        assert c["geometry"]["type"], "the overlap's shape, for the map"


async def test_the_join_uses_the_geometry_and_window_indexes(
    sessions: async_sessionmaker[AsyncSession], generated: list[Planned]
) -> None:
    sql, params = conflict.conflicts_sql(conflict.ConflictFilter(exercise=True))
    async with sessions() as session, session.begin():
        db = await driver(session)
        for table in ("planned_events", "demonstrations", "zones"):
            await db.execute(f"ANALYZE {table}")
        # With sequential scans priced out, a join whose conditions no index can serve would
        # still read the inner side whole for each outer row; one the indexes serve probes them.
        await db.execute("SET LOCAL enable_seqscan = off")
        explained = await db.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *params)
    (plan,) = orjson.loads(explained) if isinstance(explained, str | bytes) else explained
    # The nested loops of the pairs (not the one reading each pair's record).
    joins = [j for j in _joins(plan["Plan"]) if _relation_of(j) in TABLES]
    assert len(joins) == 6, "one join per pair of kinds (events, demonstrations, zones)"
    probed = [_index_of(inner) for inner in joins]
    assert all(probed), f"every join probes an index on its inner side: {probed}"
    assert set(probed) <= {f"ix_{t}_{i}" for t in TABLES for i in ("geom", "window")}
    assert {name.rsplit("_", 1)[0] for name in probed} == {f"ix_{t}" for t in TABLES}


TABLES = ("planned_events", "demonstrations", "zones")


def _joins(node: dict[str, Any]) -> Any:
    """The inner side of every nested loop of a JSON plan."""
    children = node.get("Plans", [])
    if node["Node Type"] == "Nested Loop":
        yield children[1]
    for child in children:
        yield from _joins(child)


def _relation_of(node: dict[str, Any]) -> str | None:
    if "Relation Name" in node:
        return str(node["Relation Name"])
    return next((r for c in node.get("Plans", []) if (r := _relation_of(c))), None)


def _index_of(node: dict[str, Any]) -> str | None:
    """The index an inner side probes (through a bitmap or directly), or None."""
    if "Index Name" in node:
        return str(node["Index Name"])
    for child in node.get("Plans", []):
        found = _index_of(child)
        if found:
            return found
    return None


async def test_filters_by_time_kind_municipality_and_police_zone(
    client: httpx.AsyncClient,
) -> None:
    lon, lat = 4.3622, 50.8417  # Brussels (21004), police zone 5339
    marker = uuid.uuid4().hex[:8]
    when = {"starts_at": "2034-02-02T10:00:00+01:00", "ends_at": "2034-02-02T16:00:00+01:00"}
    summit = await _create(
        client,
        "planned_event",
        feature(square(lon, lat, 0.003), title=f"{marker} sommet", kind="summit", **when),
    )
    march = await _create(
        client,
        "demonstration",
        feature(
            {"type": "LineString", "coordinates": [[lon - 0.006, lat], [lon + 0.006, lat]]},
            title=f"{marker} marche",
            starts_at="2034-02-02T14:00:00+01:00",
            ends_at="2034-02-02T20:00:00+01:00",
        ),
    )
    works = await _create(
        client,
        "zone",
        feature(
            square(lon + 0.002, lat + 0.002, 0.0015),
            title=f"{marker} chantier",
            kind="traffic_restriction",
            valid_from="2034-01-01T00:00:00+01:00",
        ),
    )
    ours = {summit["id"], march["id"], works["id"]}

    async def pairs(**params: Any) -> set[frozenset[str]]:
        window = {"start": "2034-02-01T00:00:00Z", "end": "2034-02-04T00:00:00Z"}
        found = await _all(client, **(window | params))
        return {frozenset(_pair(c)) for c in found if set(_pair(c)) <= ours}

    everything = await pairs()
    assert everything == {
        frozenset({summit["id"], march["id"]}),
        frozenset({summit["id"], works["id"]}),
    }, "the march and the works do not meet"
    listed = await _all(client, start="2034-02-02T13:00:00Z", end="2034-02-02T14:00:00Z")
    march_pair = next(c for c in listed if set(_pair(c)) == {summit["id"], march["id"]})
    p = march_pair["properties"]
    assert (utc(p["overlap_from"]), utc(p["overlap_to"])) == (
        datetime(2034, 2, 2, 13, tzinfo=UTC),
        datetime(2034, 2, 2, 15, tzinfo=UTC),
    )
    assert p["area_m2"] == 0 and p["length_m"] > 300, "a route crossing a perimeter"
    # The window: the works and the summit overlap 09:00–15:00 UTC, the march from 13:00.
    assert await pairs(start="2034-02-02T09:00:00Z", end="2034-02-02T12:00:00Z") == {
        frozenset({summit["id"], works["id"]})
    }
    assert await pairs(kind="demonstration") == {frozenset({summit["id"], march["id"]})}
    assert await pairs(kind="traffic_restriction,festival") == {
        frozenset({summit["id"], works["id"]})
    }
    assert await pairs(municipality="21004") == everything
    assert await pairs(police_zone="5339") == everything
    assert await pairs(police_zone="5341") == set()
    assert await pairs(municipality="21001") == set()

    bad = await client.get("/api/conflicts", params={"kind": "picnic"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "kind"]
    bad = await client.get("/api/conflicts", params={"start": "yesterday"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "start"]
    backwards = {"start": "2034-02-02T00:00:00Z", "end": "2034-02-01T00:00:00Z"}
    bad = await client.get("/api/conflicts", params=backwards)
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "end"]
    bad = await client.get("/api/conflicts", params={"cursor": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "cursor"]


async def test_an_object_and_its_own_zones_and_closed_objects_are_not_in_conflict(
    client: httpx.AsyncClient,
) -> None:
    lon, lat = _unique_place()
    visit = await _create(
        client,
        "planned_event",
        feature(square(lon, lat, 0.002), title="Visite", kind="official_visit", **DAY),
    )
    own = {"parent_entity": "planned_event", "parent_id": visit["id"], **_valid(DAY)}
    perimeter = await _create(
        client,
        "zone",
        feature(square(lon, lat, 0.001), title="Périmètre", kind="security_perimeter", **own),
    )
    drones = await _create(
        client, "zone", feature(square(lon, lat, 0.0015), title="Drones", kind="drone_ban", **own)
    )
    hotspot = await _create(
        client, "zone", feature(square(lon, lat, 0.003), title="Hotspot", kind="hotspot")
    )
    cancelled = await _create(
        client,
        "planned_event",
        feature(square(lon, lat, 0.002), title="Annulé", kind="festival", status="planned", **DAY),
    )
    ids = {visit["id"], perimeter["id"], drones["id"], hotspot["id"], cancelled["id"]}

    async def among() -> set[frozenset[str]]:
        found = await _all(client, start=DAY["starts_at"], end=DAY["ends_at"])
        return {frozenset(_pair(c)) for c in found if set(_pair(c)) <= ids}

    assert len(await among()) == 3, "the festival meets the visit and both of its zones"
    r = await client.patch(
        f"/api/events/{cancelled['id']}",
        json={"type": "Feature", "properties": {"status": "cancelled"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert await among() == set()


def _valid(window: dict[str, str]) -> dict[str, str]:
    return {"valid_from": window["starts_at"], "valid_to": window["ends_at"]}


async def _conflicting_pair(
    client: httpx.AsyncClient, at: tuple[float, float] | None = None, **shared: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    lon, lat = at or _unique_place()
    event = await _create(
        client,
        "planned_event",
        feature(square(lon, lat, 0.002), title="Sommet", kind="summit", **DAY, **shared),
    )
    march = await _create(
        client,
        "demonstration",
        feature(
            {"type": "LineString", "coordinates": [[lon - 0.004, lat], [lon + 0.004, lat]]},
            title="Marche",
            **DAY,
            **shared,
        ),
    )
    return event, march


async def _records(client: httpx.AsyncClient, *ids: str) -> list[dict[str, Any]]:
    r = await client.get("/api/conflict_records", params={"limit": 1000})
    assert r.status_code == 200, r.text
    return [
        f
        for f in r.json()["features"]
        if {f["properties"]["a_id"], f["properties"]["b_id"]} == set(ids)
    ]


async def test_acknowledgement_is_in_the_feed_and_a_moved_overlap_reopens_it(
    client: httpx.AsyncClient,
) -> None:
    event, march = await _conflicting_pair(client)
    head = (await client.get("/api/changes", params={"limit": 1})).json()["head"]
    note = "Itinéraire concerté avec la zone de police"
    r = await client.post(
        "/api/conflicts/acknowledge", json={"objects": [march["id"], event["id"]], "note": note}
    )
    assert r.status_code == 200, r.text
    acknowledged = r.json()["properties"]
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["acknowledgement"]["note"] == note
    assert acknowledged["acknowledgement"]["by"] == "op"

    changes = (await client.get("/api/changes", params={"since": head, "limit": 100})).json()
    acks = [
        c
        for c in changes["changes"]
        if c["entity"] == "conflict"
        and c["feature"]["properties"]["status"] == "acknowledged"
        and {c["feature"]["properties"]["a_id"], c["feature"]["properties"]["b_id"]}
        == {event["id"], march["id"]}
    ]
    assert len(acks) == 1 and acks[0]["by"] == "op"
    assert acks[0]["feature"]["properties"]["note"] == note

    listed = await _all(client, start=DAY["starts_at"], end=DAY["ends_at"])
    (mine,) = [c for c in listed if set(_pair(c)) == {event["id"], march["id"]}]
    assert mine["properties"]["status"] == "acknowledged"

    # A new title moves nothing: still agreed. A new route moves the overlap: open again.
    r = await client.patch(
        f"/api/demonstrations/{march['id']}",
        json={"type": "Feature", "properties": {"title": "Marche (titre corrigé)"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    listed = await _all(client, start=DAY["starts_at"], end=DAY["ends_at"])
    (mine,) = [c for c in listed if set(_pair(c)) == {event["id"], march["id"]}]
    assert mine["properties"]["status"] == "acknowledged"
    coords = march["geometry"]["coordinates"]
    moved = [[coords[0][0], coords[0][1] + 0.0005], [coords[1][0], coords[1][1] + 0.0005]]
    r = await client.patch(
        f"/api/demonstrations/{march['id']}",
        json={
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": moved},
            "properties": {},
        },
        headers={"If-Match": '"2"'},
    )
    assert r.status_code == 200, r.text
    listed = await _all(client, start=DAY["starts_at"], end=DAY["ends_at"])
    (mine,) = [c for c in listed if set(_pair(c)) == {event["id"], march["id"]}]
    assert mine["properties"]["status"] == "open" and mine["properties"]["acknowledgement"] is None

    async def reopened() -> bool:
        records = await _records(client, event["id"], march["id"])
        return bool(records) and records[0]["properties"]["status"] == "open"

    await eventually(reopened, "the watcher re-opens the record")


async def test_acknowledging_what_is_no_conflict_answers_404_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    lon, lat = _unique_place()
    event, march = await _conflicting_pair(client, at=(lon, lat))
    # Two kilometres away, not at a second random place (which may fall on the first).
    far = await _create(
        client,
        "planned_event",
        feature(square(lon + 0.02, lat + 0.02), title="Ailleurs", kind="festival", **DAY),
    )
    head = (await client.get("/api/changes", params={"limit": 1})).json()["head"]
    for objects in ([event["id"], far["id"]], [event["id"], str(uuid.uuid4())]):
        r = await client.post("/api/conflicts/acknowledge", json={"objects": objects, "note": "x"})
        assert r.status_code == 404, r.text
    for body in (
        {"objects": [event["id"]], "note": "x"},
        {"objects": [event["id"], march["id"]], "note": ""},
        {"objects": [event["id"], march["id"]], "note": "x", "extra": 1},
    ):
        r = await client.post("/api/conflicts/acknowledge", json=body)
        assert r.status_code == 422, r.text
    after = (await client.get("/api/changes", params={"since": head, "limit": 100})).json()
    assert not [c for c in after["changes"] if c["entity"] == "conflict" and c["by"] == "op"]


async def test_a_change_that_creates_a_conflict_is_flagged_live_to_the_planning_desk(
    server: Server, client: httpx.AsyncClient
) -> None:
    feed = await open_feed(server, "op")
    try:
        feed.read_in_background()
        event, march = await _conflicting_pair(client)

        def flagged(f: Any) -> bool:
            return any(
                c["entity"] == "conflict"
                and c["op"] == "created"
                and c["feature"]["properties"]["status"] == "open"
                and {c["feature"]["properties"]["a_id"], c["feature"]["properties"]["b_id"]}
                == {event["id"], march["id"]}
                for c in f.changes
            )

        await feed.wait_for(flagged)
        (record,) = await _records(client, event["id"], march["id"])
        assert record["geometry"]["type"] in ("LineString", "MultiLineString")
        assert record["properties"]["created_by"] == "system:deconfliction"

        # Cancelling the march resolves it, live too.
        r = await client.patch(
            f"/api/demonstrations/{march['id']}",
            json={"type": "Feature", "properties": {"status": "cancelled"}},
            headers={"If-Match": '"1"'},
        )
        assert r.status_code == 200, r.text
        await feed.wait_for(
            lambda f: any(
                c["entity"] == "conflict"
                and c["id"] == record["id"]
                and c["feature"]["properties"]["status"] == "resolved"
                for c in f.changes
            )
        )
    finally:
        await feed.close()


async def test_partners_see_only_conflicts_between_objects_they_both_see(
    client: httpx.AsyncClient, client_for: Any
) -> None:
    a_org, b_org = "pz-5339", "pz-5340"
    shared_a, march_a = await _conflicting_pair(client, shared_with=[a_org])
    # B sees the event only: it learns of no conflict with the march it cannot see.
    event_b, march_hidden = await _conflicting_pair(client)
    r = await client.patch(
        f"/api/events/{event_b['id']}",
        json={"type": "Feature", "properties": {"shared_with": [b_org]}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    part, part_b = client_for("part"), client_for("part-b")
    window = {"start": DAY["starts_at"], "end": DAY["ends_at"]}
    seen_a = {frozenset(_pair(c)) for c in await _all(part, **window)}
    seen_b = {frozenset(_pair(c)) for c in await _all(part_b, **window)}
    assert frozenset({shared_a["id"], march_a["id"]}) in seen_a
    assert frozenset({shared_a["id"], march_a["id"]}) not in seen_b
    assert frozenset({event_b["id"], march_hidden["id"]}) not in seen_a | seen_b
    for c in await _all(part_b, **window):
        assert all(o["id"] != march_hidden["id"] for o in c["properties"]["objects"])

    # The records follow: A reads its pair's record once the watcher wrote it, B never.
    async def recorded() -> list[dict[str, Any]]:
        return await _records(part, shared_a["id"], march_a["id"])

    (record,) = await eventually(recorded, "the record of A's pair")
    r = await part_b.get(f"/api/conflict_records/{record['id']}")
    assert r.status_code == 404
    hidden = await _records(client, event_b["id"], march_hidden["id"])
    assert hidden and hidden[0]["properties"]["visibility"] == "internal"
    assert hidden[0]["properties"]["shared_with"] == []
    r = await part_b.get(f"/api/conflict_records/{hidden[0]['id']}")
    assert r.status_code == 404
    # And partners do not acknowledge.
    r = await part.post(
        "/api/conflicts/acknowledge",
        json={"objects": [shared_a["id"], march_a["id"]], "note": "vu"},
    )
    assert r.status_code == 403


async def test_a_partner_subscribed_to_conflicts_is_alerted_of_those_it_sees(
    client: httpx.AsyncClient, client_for: Any
) -> None:
    lon, lat = _unique_place()
    part, part_b = client_for("part"), client_for("part-b")
    subscriptions = []
    # Both subscribe to conflicts around this test's place (not the region: the session's
    # other tests draw theirs elsewhere and alert these partners of their own).
    for who, org in ((part, "pz-5339"), (part_b, "pz-5340")):
        r = await who.post(
            "/api/subscriptions",
            json={
                "organisation": org,
                "name": f"Conflits {uuid.uuid4().hex[:6]}",
                "entities": ["conflict"],
                "area_kind": "polygon",
                "polygon": square(lon, lat, 0.01),
            },
        )
        assert r.status_code == 201, r.text
        subscriptions.append((who, r.json()["id"]))
    try:
        event, march = await _conflicting_pair(client, shared_with=["pz-5339"], at=(lon, lat))
        (record,) = await eventually(
            lambda: _records(client, event["id"], march["id"]), "the conflict's record"
        )

        async def alerted(who: httpx.AsyncClient) -> list[dict[str, Any]]:
            r = await who.get("/api/alerts", params={"limit": 200})
            assert r.status_code == 200, r.text
            return [a for a in r.json()["alerts"] if a["entity_id"] == record["id"]]

        (alert,) = await eventually(lambda: alerted(part), "partner A's conflict alert")
        assert alert["entity"] == "conflict" and alert["msg_type"] == "Alert"
        # Raised from the same change, B's alert would be there too: it sees one object only.
        assert await alerted(part_b) == []
    finally:
        for who, subscription in subscriptions:
            assert (await who.delete(f"/api/subscriptions/{subscription}")).status_code == 204


async def test_exercise_conflicts_are_apart_from_the_real_picture(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    lon, lat = _unique_place()
    real = await _create(
        client, "planned_event", feature(square(lon, lat), title="Réel", kind="festival", **DAY)
    )
    played = await _create(
        client,
        "planned_event",
        feature(square(lon, lat), title="Joué", kind="festival", exercise=True, **DAY),
    )
    for exercise in ("false", "true"):
        listed = await _all(client, exercise=exercise, start=DAY["starts_at"], end=DAY["ends_at"])
        assert not [c for c in listed if set(_pair(c)) == {real["id"], played["id"]}]
    async with sessions() as session:
        found = await conflict.of_object(session, uuid.UUID(real["id"]))
        assert all(played["id"] not in (str(c.a.id), str(c.b.id)) for c in found)
        count = await session.scalar(text("SELECT count(*) FROM conflicts"))
        assert count is not None
