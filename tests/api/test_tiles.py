"""Vector tiles of the operational layers (app/api/tiles.py): what a tile holds, for whom, under
which filters; its validators and their invalidation by the change feed; TileJSON for GIS
clients; the compact first load and the simplified reference outlines."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import mapbox_vector_tile
import pytest

from app.settings import Settings
from tests.conftest import (
    PASSWORD,
    Identities,
    Server,
    auth,
    eventually,
    start_server,
    stop_server,
)
from tests.samples import point, square

MVT = "application/vnd.mapbox-vector-tile"
TILED = ("incidents", "events", "demonstrations", "zones", "activations")
A_ORG, B_ORG = "pz-5339", "pz-5340"


def _spot() -> tuple[float, float]:
    """A place of this test's own in the Ardennes: no other test draws there, so the tiles
    around it hold only what the test wrote."""
    return 5.3 + random.random() * 0.5, 49.9 + random.random() * 0.3


def _tile(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def _url(collection: str, lon: float, lat: float, z: int) -> str:
    z, x, y = _tile(lon, lat, z)
    return f"/api/tiles/{collection}/{z}/{x}/{y}.mvt"


def _decode(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == MVT
    return dict(mapbox_vector_tile.decode(r.content))


def _one(tile: dict[str, Any], layer: str, oid: str) -> dict[str, Any]:
    [found] = [f for f in tile[layer]["features"] if f["properties"].get("oid") == oid]
    return dict(found)


def _oids(tile: dict[str, Any], layer: str = "incident") -> set[str]:
    return {f["properties"]["oid"] for f in tile.get(layer, {}).get("features", [])}


async def _incident(client: httpx.AsyncClient, lon: float, lat: float, **props: Any) -> Any:
    body = {
        "type": "Feature",
        "geometry": props.pop("geometry", point(lon, lat)),
        "properties": {
            "title": f"Tile test {uuid.uuid4().hex[:6]}",
            "category": "fire",
            "severity": "severe",
            **props,
        },
    }
    r = await client.post("/api/incidents", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_tile_holds_each_object_with_what_the_map_and_its_click_through_need(
    client: httpx.AsyncClient,
) -> None:
    lon, lat = _spot()
    made = await _incident(client, lon, lat, title="Feu de cheminée", status="confirmed")
    tile = _decode(await client.get(_url("incidents", lon, lat, 16)))
    found = _one(tile, "incident", made["id"])
    props = found["properties"]
    assert props["entity"] == "incident"
    assert props["ref"] == made["properties"]["ref"]
    assert props["title"] == "Feu de cheminée"
    assert props["kind"] == "fire"
    assert (props["severity"], props["sev"]) == ("severe", 2)
    assert props["status"] == "confirmed"
    assert props["version"] == 1
    assert props["exercise"] is False
    assert isinstance(props["start"], int) and "end" not in props  # open: not closed
    assert found["geometry"]["type"] == "Point"
    # A tile far from it does not hold it.
    away = _decode(await client.get(_url("incidents", lon + 0.05, lat, 16)))
    assert made["id"] not in _oids(away)


async def test_incidents_cluster_in_low_zoom_tiles_and_stand_alone_in_high_ones(
    client: httpx.AsyncClient,
) -> None:
    lon, lat = _spot()
    ids = {
        (await _incident(client, lon + i * 0.0003, lat, severity=sev))["id"]
        for i, sev in enumerate(("minor", "extreme", "moderate"))
    }
    low = _decode(await client.get(_url("incidents", lon, lat, 11)))
    clusters = low["incident-cluster"]["features"]
    assert not ids & _oids(low)
    [cluster] = [c for c in clusters if c["properties"]["point_count"] >= 3]
    assert cluster["properties"]["maxsev"] == 3
    assert cluster["properties"]["point_count_abbreviated"] == str(
        cluster["properties"]["point_count"]
    )
    high = _decode(await client.get(_url("incidents", lon, lat, 17)))
    assert ids <= _oids(high) | _oids(
        _decode(await client.get(_url("incidents", lon + 0.0006, lat, 17)))
    )


async def test_an_incident_drawn_as_an_area_is_in_the_shape_layer_and_stands_as_a_point(
    client: httpx.AsyncClient,
) -> None:
    lon, lat = _spot()
    made = await _incident(client, lon, lat, geometry=square(lon, lat, 0.001))
    tile = _decode(await client.get(_url("incidents", lon, lat, 16)))
    assert made["id"] in _oids(tile, "incident-shape")
    assert made["id"] in _oids(tile, "incident")
    [shape] = [
        f for f in tile["incident-shape"]["features"] if f["properties"]["oid"] == made["id"]
    ]
    assert shape["geometry"]["type"] == "Polygon"


async def test_tiles_of_other_collections_hold_their_kind(client: httpx.AsyncClient) -> None:
    lon, lat = _spot()
    body = {
        "type": "Feature",
        "geometry": square(lon, lat),
        "properties": {"title": "Périmètre", "kind": "security_perimeter"},
    }
    r = await client.post("/api/zones", json=body)
    assert r.status_code == 201, r.text
    tile = _decode(await client.get(_url("zones", lon, lat, 15)))
    zone = _one(tile, "zone", r.json()["id"])
    assert zone["properties"]["kind"] == "security_perimeter"
    assert zone["properties"]["sev"] == -1


async def test_the_list_filters_apply_to_tiles(client: httpx.AsyncClient) -> None:
    lon, lat = _spot()
    fire = (await _incident(client, lon, lat, category="fire"))["id"]
    drill = (await _incident(client, lon, lat, category="traffic", exercise=True))["id"]
    closed = (
        await _incident(
            client, lon, lat, status="reported", occurred_at="2026-01-10T10:00:00+01:00"
        )
    )["id"]
    url = _url("incidents", lon, lat, 17)

    async def ids(**params: str) -> set[str]:
        return _oids(_decode(await client.get(url, params=params))) & {fire, drill, closed}

    assert await ids() == {fire, drill, closed}
    assert await ids(category="traffic") == {drill}
    assert await ids(exercise="true") == {drill}
    assert await ids(exercise="false") == {fire, closed}
    assert await ids(status="confirmed") == set()
    assert await ids(status="reported") == {fire, drill, closed}
    r = await client.get(url, params={"category": "no-such"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert "category" in r.text
    # The tile's ETag names its filters: a filtered tile is not the whole one.
    assert (await client.get(url)).headers["etag"] != (
        await client.get(url, params={"category": "traffic"})
    ).headers["etag"]


async def test_a_partners_tiles_hold_only_what_it_may_see_under_its_own_validators(
    client: httpx.AsyncClient, client_for: Any
) -> None:
    lon, lat = _spot()
    everyone = (await _incident(client, lon, lat, visibility="shared"))["id"]
    for_a = (await _incident(client, lon, lat, shared_with=[A_ORG]))["id"]
    for_b = (await _incident(client, lon, lat, shared_with=[B_ORG]))["id"]
    internal = (await _incident(client, lon, lat))["id"]
    mine = {everyone, for_a, for_b, internal}
    url = _url("incidents", lon, lat, 17)
    seen = {}
    etags = {}
    for who in ("op", "part", "part-b"):
        r = await client_for(who).get(url)
        seen[who] = _oids(_decode(r))
        etags[who] = r.headers["etag"]
    assert seen["op"] & mine == mine
    assert seen["part"] & mine == {everyone, for_a}
    assert seen["part-b"] & mine == {everyone, for_b}
    assert len(set(etags.values())) == 3, "one validator per scope"
    # A partner sending another's validator is not told "unchanged": it gets its own tile.
    r = await client_for("part").get(url, headers={"If-None-Match": etags["part-b"]})
    assert r.status_code == 200 and _oids(_decode(r)) & mine == {everyone, for_a}
    # Nor does a cluster count what the reader may not see: the four stand at one place.
    z, x, y = _tile(lon, lat, 14)
    n = 2**z
    row = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    at = (((lon + 180) / 360 * n - x) * 4096, (row - y) * 4096)

    async def counted(who: str) -> int:
        r = await client_for(who).get(f"/api/tiles/incidents/{z}/{x}/{y}.mvt")
        tile = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})
        clusters = tile["incident-cluster"]["features"]
        nearest = min(clusters, key=lambda c: math.dist(c["geometry"]["coordinates"], at))
        assert math.dist(nearest["geometry"]["coordinates"], at) < 2
        return int(nearest["properties"]["point_count"])

    assert [await counted(who) for who in ("op", "part", "part-b")] == [4, 2, 2]


async def test_an_unchanged_tile_answers_304_and_a_change_in_it_gives_a_new_one(
    client: httpx.AsyncClient,
) -> None:
    lon, lat = _spot()
    made = await _incident(client, lon, lat, title="Avant")
    url = _url("incidents", lon, lat, 16)
    elsewhere = _url("incidents", lon + 0.1, lat, 16)

    # The creation raises the tile's generation when the listener hears it, which may be after
    # a first read: the validator holds from then on.
    async def settled() -> str | None:
        etag = (await client.get(url)).headers["etag"]
        again = await client.get(url, headers={"If-None-Match": etag})
        if again.status_code != 304:
            return None
        assert again.content == b""
        assert again.headers["etag"] == etag
        return etag

    etag = await eventually(settled, "the tile to hold its validator once the creation is heard")
    other_etag = (await client.get(elsewhere)).headers["etag"]

    r = await client.patch(
        f"/api/incidents/{made['id']}",
        json={"type": "Feature", "properties": {"title": "Après"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text

    async def fresh() -> httpx.Response | None:
        r = await client.get(url, headers={"If-None-Match": etag})
        return r if r.status_code == 200 else None

    changed = await eventually(fresh, "the tile to change once the change is heard")
    assert changed.headers["etag"] != etag
    [found] = [
        f for f in _decode(changed)["incident"]["features"] if f["properties"]["oid"] == made["id"]
    ]
    assert found["properties"]["title"] == "Après"
    # A tile the change did not meet keeps its validator.
    assert (await client.get(elsewhere)).headers["etag"] == other_etag


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("23/0/0", "z"),
        ("3/8/0", "x"),
        ("3/0/8", "y"),
        ("a/0/0", "z"),
        ("3/-1/0", "x"),
    ],
)
async def test_a_tile_address_outside_the_grid_is_refused_naming_the_part(
    client: httpx.AsyncClient, path: str, field: str
) -> None:
    r = await client.get(f"/api/tiles/incidents/{path}.mvt")
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == ["path", field]


async def test_tilejson_describes_each_layer_and_the_ogc_landing_page_links_it(
    client: httpx.AsyncClient,
) -> None:
    landing = (await client.get("/api/features")).json()
    [tiles] = [link for link in landing["links"] if link["rel"] == "tiles"]
    listed = (await client.get(tiles["href"])).json()["tilesets"]
    assert [t["id"] for t in listed] == [
        "incidents",
        "events",
        "demonstrations",
        "zones",
        "activations",
    ]
    collection = (await client.get("/api/features/collections/incidents")).json()
    [described] = [link for link in collection["links"] if link["rel"] == "tiles"]
    doc = (await client.get(described["href"], params={"exercise": "false"})).json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["scheme"] == "xyz"
    assert doc["tiles"][0].endswith("/api/tiles/incidents/{z}/{x}/{y}.mvt?exercise=false")
    assert doc["tiles"][0].startswith("http://")
    assert 0 <= doc["minzoom"] < doc["maxzoom"] <= 22
    assert len(doc["bounds"]) == 4 and len(doc["center"]) == 3
    layers = {layer["id"]: layer for layer in doc["vector_layers"]}
    assert set(layers) == {"incident", "incident-cluster", "incident-shape"}
    assert {"oid", "ref", "kind", "severity", "sev", "status", "title"} <= set(
        layers["incident"]["fields"]
    )
    assert "point_count" in layers["incident-cluster"]["fields"]
    # What the template names is served.
    lon, lat = _spot()
    z, x, y = _tile(lon, lat, 12)
    tile_url = doc["tiles"][0].replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
    assert (await client.get(tile_url)).status_code == 200


async def test_a_partner_is_offered_the_tiles_of_what_it_may_read_only(client_for: Any) -> None:
    dispatch = client_for("dispatch-a")
    listed = (await dispatch.get("/api/tiles")).json()["tilesets"]
    assert [t["id"] for t in listed] == ["incidents"]
    assert (await dispatch.get("/api/tiles/zones/tilejson.json")).status_code == 403


@pytest.fixture(scope="module")
def tiled_server(settings: Settings, server: Server, identities: Identities) -> Iterator[Server]:
    """A server whose dashboard draws every collection of more than one object from tiles."""
    srv = start_server(settings, extra_env={"SITCEN_TILE_THRESHOLD": "1"}, timeout=180)
    for user in ("op", "part"):
        r = httpx.post(srv.url + "/api/auth/token", data={"username": user, "password": PASSWORD})
        r.raise_for_status()
        srv.tokens[user] = r.json()["access_token"]
    yield srv
    stop_server(srv)


async def test_the_first_picture_holds_every_visible_object_in_one_answer(
    client: httpx.AsyncClient, client_for: Any
) -> None:
    lon, lat = _spot()
    shared = await _incident(client, lon, lat, visibility="shared", title="Partagé")
    internal = await _incident(client, lon, lat, title="Interne")
    body = (await client.get("/api/picture")).json()
    assert body["head"] >= 1 and body["threshold"] == 5000
    assert set(body["collections"]) == {
        "incident", "planned_event", "demonstration", "zone", "activation"
    }  # fmt: skip
    incidents = body["collections"]["incident"]
    assert incidents["path"] == "incidents" and incidents["tiled"] is False
    assert incidents["count"] == len(incidents["features"])
    by_id = {f["id"]: f for f in incidents["features"]}
    assert by_id[shared["id"]] == shared, "below the threshold, the Features as the list has them"

    partner = (await client_for("part").get("/api/picture")).json()["collections"]["incident"]
    ids = {f["id"] for f in partner["features"]}
    assert shared["id"] in ids and internal["id"] not in ids
    assert partner["count"] == len(ids)
    dispatch = (await client_for("dispatch-a").get("/api/picture")).json()["collections"]
    assert set(dispatch) == {"incident"}


async def test_above_the_threshold_the_first_picture_is_compact_rows(
    client: httpx.AsyncClient, tiled_server: Server
) -> None:
    lon, lat = _spot()
    shared = await _incident(client, lon, lat, visibility="shared", title="Partagé")
    internal = await _incident(client, lon, lat, geometry=square(lon, lat, 0.001))
    async with httpx.AsyncClient(base_url=tiled_server.url, timeout=30) as c:
        body = (await c.get("/api/picture", headers=auth(tiled_server, "op"))).json()
        partner = (await c.get("/api/picture", headers=auth(tiled_server, "part"))).json()
        config = (await c.get("/api/config")).json()
    assert body["threshold"] == config["tile_threshold"] == 1
    incidents = body["collections"]["incident"]
    assert incidents["tiled"] is True and "features" not in incidents
    assert incidents["count"] == len(incidents["rows"])
    fields = incidents["fields"]
    assert fields[:3] == ["id", "ref", "version"] and fields[-1] == "geometry"
    assert "description" not in fields, "the rest is read when the detail opens"
    rows = {row[0]: dict(zip(fields, row, strict=True)) for row in incidents["rows"]}
    row = rows[shared["id"]]
    assert row["title"] == "Partagé" and row["category"] == "fire"
    assert row["severity"] == "severe" and row["status"] == shared["properties"]["status"]
    assert row["ref"] == shared["properties"]["ref"] and row["version"] == 1
    assert row["geometry"] == {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}
    # An area stands as a point inside it: the map draws it from the tiles.
    assert rows[internal["id"]]["geometry"]["type"] == "Point"
    seen = {row[0] for row in partner["collections"]["incident"]["rows"]}
    assert shared["id"] in seen and internal["id"] not in seen


async def test_the_first_picture_is_the_real_or_the_exercise_picture_as_asked(
    client: httpx.AsyncClient, tiled_server: Server
) -> None:
    lon, lat = _spot()
    real = await _incident(client, lon, lat, title="Réel")
    drill = await _incident(client, lon, lat, title="Exercice", exercise=True)

    def ids(body: dict[str, Any]) -> set[str]:
        part = body["collections"]["incident"]
        if part["tiled"]:
            assert part["count"] == len(part["rows"])
            return {row[0] for row in part["rows"]}
        assert part["count"] == len(part["features"])
        return {f["id"] for f in part["features"]}

    pictures = (("real", {"exercise": "false"}), ("drill", {"exercise": "true"}), ("both", {}))
    op = auth(tiled_server, "op")
    async with httpx.AsyncClient(base_url=tiled_server.url, timeout=30) as c:
        compact = {
            name: ids((await c.get("/api/picture", params=params, headers=op)).json())
            for name, params in pictures
        }
    features = {
        name: ids((await client.get("/api/picture", params=params)).json())
        for name, params in pictures
    }
    for seen in (compact, features):
        assert real["id"] in seen["real"] and drill["id"] not in seen["real"]
        assert drill["id"] in seen["drill"] and real["id"] not in seen["drill"]
        assert {real["id"], drill["id"]} <= seen["both"]
    wrong = await client.get("/api/picture", params={"exercise": "maybe"})
    assert wrong.status_code == 422 and "exercise" in wrong.text


async def test_reference_outlines_are_simplified_for_display_on_request(
    client: httpx.AsyncClient,
) -> None:
    def vertices(fc: dict[str, Any]) -> int:
        def count(c: Any) -> int:
            return 1 if isinstance(c[0], (int, float)) else sum(count(p) for p in c)

        return sum(count(f["geometry"]["coordinates"]) for f in fc["features"])

    full = (await client.get("/api/reference/municipality")).json()
    simple = await client.get("/api/reference/municipality", params={"simplify": "0.0005"})
    assert simple.status_code == 200
    assert len(simple.json()["features"]) == len(full["features"]) == 19
    assert vertices(simple.json()) < vertices(full) / 2
    for bad in ("0", "-1", "0.5", "x"):
        r = await client.get("/api/reference/municipality", params={"simplify": bad})
        assert r.status_code == 422 and "simplify" in r.text
