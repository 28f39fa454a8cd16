"""OGC API – Features (app/api/features.py): the picture as GIS clients read it, and GDAL's
own OAPIF driver reading it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.registry import SPECS
from tests.conftest import Server
from tests.samples import GRAND_PLACE, SAMPLES, feature, point, square

ROOT = "/api/features"
ITEMS = ROOT + "/collections/{}/items"
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON_CLASS = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"


def _rels(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {link["rel"]: link for link in body["links"]}


async def _all_items(client: httpx.AsyncClient, url: str, params: dict[str, str]) -> list[Any]:
    features: list[Any] = []
    next_url: str | None = url
    query: dict[str, str] | None = params
    while next_url:
        r = await client.get(next_url, params=query)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/geo+json"
        body = r.json()
        assert body["type"] == "FeatureCollection"
        assert body["numberReturned"] == len(body["features"])
        assert body["timeStamp"].endswith("Z")
        features += body["features"]
        rels = _rels(body)
        assert rels["self"]["type"] == "application/geo+json"
        # The next link holds the whole query: params given to httpx would replace it.
        next_url, query = (rels["next"]["href"], None) if "next" in rels else (None, None)
    return features


async def test_landing_page_conformance_and_collections(client: httpx.AsyncClient) -> None:
    landing = await client.get(ROOT)
    assert landing.status_code == 200
    rels = _rels(landing.json())
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert all(link["href"].startswith("http://") for link in rels.values()), "absolute links"
    assert (await client.get(rels["service-desc"]["href"])).json()["info"]["title"] == "sitcen"

    conformance = (await client.get(rels["conformance"]["href"])).json()["conformsTo"]
    assert {CORE, GEOJSON_CLASS} <= set(conformance)

    collections = (await client.get(rels["data"]["href"])).json()["collections"]
    ids = [c["id"] for c in collections]
    assert ids[:6] == ["incidents", "events", "demonstrations", "zones", "activations", "logbook"]
    # Every kind of object is a collection, then the reference layers.
    assert ids == [
        *(spec.path for spec in SPECS),
        *("region", "municipalities", "police_zones", "landmarks"),
    ]
    assert ids[:6] == ["incidents", "events", "demonstrations", "zones", "activations", "logbook"]
    zones = collections[ids.index("zones")]
    assert zones["extent"]["spatial"]["bbox"][0][0] < GRAND_PLACE[0]
    items = _rels(zones)["items"]
    assert items["type"] == "application/geo+json"
    assert items["href"].endswith(ITEMS.format("zones"))
    one = await client.get(ROOT + "/collections/zones")
    assert one.status_code == 200 and one.json()["id"] == "zones"
    assert (await client.get(ROOT + "/collections/nothing")).status_code == 404


async def test_collections_are_those_the_caller_may_read(client_for: Any) -> None:
    partner = (await client_for("part").get(ROOT + "/collections")).json()["collections"]
    assert "logbook" not in [c["id"] for c in partner]
    assert "checklists" not in [c["id"] for c in partner] and "fiches" in [c["id"] for c in partner]
    dispatch = (await client_for("dispatch-a").get(ROOT + "/collections")).json()["collections"]
    assert [c["id"] for c in dispatch] == [
        *("incidents", "threat_levels", "region", "municipalities", "police_zones", "landmarks")
    ]
    assert (await client_for("dispatch-a").get(ITEMS.format("zones"))).status_code == 403


async def test_items_page_through_next_links_each_once(client: httpx.AsyncClient) -> None:
    tag = f"oapif-{uuid.uuid4().hex[:8]}"
    created = []
    for i in range(5):
        body = feature(point(4.35, 50.84), title=f"{tag} {i}", category="traffic", severity="minor")
        created.append((await client.post("/api/incidents", json=body)).json()["id"])
    features = await _all_items(client, ITEMS.format("incidents"), {"q": tag, "limit": "2"})
    assert [f["id"] for f in features] == list(reversed(created))
    assert features[0]["properties"]["municipality"]


async def test_limit_above_the_maximum_is_lowered_not_refused(client: httpx.AsyncClient) -> None:
    r = await client.get(ITEMS.format("incidents"), params={"limit": "100000"})
    assert r.status_code == 200 and r.json()["numberReturned"] <= 1000


async def test_datetime_instants_and_intervals_meet_the_validity_window(
    client: httpx.AsyncClient,
) -> None:
    tag = f"oapif-{uuid.uuid4().hex[:8]}"
    zone = feature(
        square(4.36, 50.84),
        title=tag,
        kind="red_zone",
        valid_from="2030-05-01T08:00:00+02:00",
        valid_to="2030-05-01T20:00:00+02:00",
    )
    assert (await client.post("/api/zones", json=zone)).status_code == 201

    async def found(when: str) -> bool:
        r = await client.get(ITEMS.format("zones"), params={"q": tag, "datetime": when})
        assert r.status_code == 200, r.text
        return len(r.json()["features"]) == 1

    assert await found("2030-05-01T12:00:00Z")
    assert not await found("2030-05-02T12:00:00Z")
    assert await found("2030-04-01T00:00:00Z/2030-05-01T07:00:00Z")
    assert await found("2030-05-01T19:00:00+02:00/..")
    assert not await found("2030-05-02T00:00:00Z/..")
    assert not await found("../2030-04-30T00:00:00Z")
    assert await found("/2030-05-01T07:00:00Z")


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"bbox": "4.3,50.8,4.4"}, "bbox"),
        ({"bbox": "4.4,50.8,4.3,50.9"}, "bbox"),
        ({"bbox-crs": "EPSG:2154", "bbox": "1,2,3,4"}, "bbox-crs"),
        ({"datetime": "2026-09-26T10:00:00"}, "datetime"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"datetime": "../.."}, "datetime"),
        ({"datetime": "2026-09-27T00:00:00Z/2026-09-26T00:00:00Z"}, "datetime"),
        ({"crs": "EPSG:2154"}, "crs"),
        ({"status": "burning"}, "status"),
        ({"category": "dragons"}, "category"),
        ({"exercise": "maybe"}, "exercise"),
        ({"q": "x" * 201}, "q"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"f": "html"}, "f"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_parameters_answer_400_naming_them(
    client: httpx.AsyncClient, params: dict[str, str], loc: str
) -> None:
    r = await client.get(ITEMS.format("incidents"), params=params)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == 400 and problem["detail"]
    assert ["query", loc] in [e["loc"] for e in problem["errors"]]


async def test_unknown_parameters_are_refused_on_every_resource(client: httpx.AsyncClient) -> None:
    for path in (ROOT, ROOT + "/conformance", ROOT + "/collections", ROOT + "/collections/zones"):
        r = await client.get(path, params={"colour": "red"})
        assert r.status_code == 400, path


async def test_one_feature_with_links_etag_and_lambert(client: httpx.AsyncClient) -> None:
    created = (
        await client.post(
            "/api/incidents",
            json=feature(point(*GRAND_PLACE), title="OAPIF", category="fire", severity="minor"),
        )
    ).json()
    url = ITEMS.format("incidents") + "/" + created["id"]
    r = await client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert r.headers["etag"] == '"1"'
    body = r.json()
    assert body["id"] == created["id"] and body["geometry"] == created["geometry"]
    assert _rels(body)["collection"]["href"].endswith("/api/features/collections/incidents")
    assert _rels(body)["self"]["href"].endswith(url)

    lambert = await client.get(url, params={"crs": "http://www.opengis.net/def/crs/EPSG/0/31370"})
    assert lambert.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/31370>"
    x, y = lambert.json()["geometry"]["coordinates"]
    assert 148_000 < x < 150_000 and 170_000 < y < 171_000  # the Grand-Place in Lambert 72

    assert (await client.get(ITEMS.format("incidents") + f"/{uuid.uuid4()}")).status_code == 404
    assert (await client.get(ITEMS.format("zones") + "/" + created["id"])).status_code == 404


async def test_a_partner_reads_only_what_is_shared(
    client: httpx.AsyncClient, client_for: Any
) -> None:
    tag = f"oapif-{uuid.uuid4().hex[:8]}"
    internal = (
        await client.post(
            "/api/incidents",
            json=feature(point(*GRAND_PLACE), title=tag, category="fire", severity="minor"),
        )
    ).json()
    shared = (
        await client.post(
            "/api/incidents",
            json=feature(
                point(*GRAND_PLACE),
                title=tag,
                category="fire",
                severity="minor",
                visibility="shared",
            ),
        )
    ).json()
    partner = client_for("part")
    features = await _all_items(partner, ITEMS.format("incidents"), {"q": tag})
    assert [f["id"] for f in features] == [shared["id"]]
    hidden = await partner.get(ITEMS.format("incidents") + "/" + internal["id"])
    assert hidden.status_code == 404


async def test_reference_layers_are_collections_too(client: httpx.AsyncClient) -> None:
    municipalities = await _all_items(client, ITEMS.format("municipalities"), {"limit": "5"})
    assert len(municipalities) == 19, "four pages of five, each municipality once"
    assert len({f["id"] for f in municipalities}) == 19
    lon, lat = GRAND_PLACE
    bbox = f"{lon - 0.0001},{lat - 0.0001},{lon + 0.0001},{lat + 0.0001}"
    r = await client.get(ITEMS.format("municipalities"), params={"bbox": bbox})
    assert [f["id"] for f in r.json()["features"]] == ["21004"]
    box3d = f"{lon - 0.0001},{lat - 0.0001},-10,{lon + 0.0001},{lat + 0.0001},100"
    r3d = await client.get(ITEMS.format("municipalities"), params={"bbox": box3d})
    assert [f["id"] for f in r3d.json()["features"]] == ["21004"], "heights ignored"
    ground = f"{lon - 0.0001},{lat - 0.0001},0,{lon + 0.0001},{lat + 0.0001},0"
    r0 = await client.get(ITEMS.format("municipalities"), params={"bbox": ground})
    assert [f["id"] for f in r0.json()["features"]] == ["21004"], "a height of 0 is a number"
    zones = await client.get(ITEMS.format("police_zones"), params={"bbox": bbox})
    assert [f["properties"]["code"] for f in zones.json()["features"]] == ["5339"]

    one = await client.get(ITEMS.format("municipalities") + "/21004")
    assert one.status_code == 200 and one.json()["properties"]["name_nl"] == "Brussel"
    assert _rels(one.json())["collection"]["href"].endswith("/collections/municipalities")
    lambert = await client.get(ITEMS.format("region") + "/04000", params={"crs": "EPSG:31370"})
    assert lambert.status_code == 200, lambert.text
    assert lambert.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/31370>"
    assert (await client.get(ITEMS.format("municipalities") + "/99999")).status_code == 404
    bad = await client.get(ITEMS.format("municipalities"), params={"status": "x"})
    assert bad.status_code == 400


def _ogr(server: Server, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GDAL_HTTP_HEADERS": f"Authorization: Bearer {server.tokens['op']}",
        "CPL_DEBUG": "OFF",
    }
    return subprocess.run(
        list(args), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True
    )


async def test_gdal_reads_every_collection_and_pages(
    server: Server, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """GDAL's OAPIF driver (Debian's gdal-bin, installed by scripts/setup.sh), a real client."""
    assert shutil.which("ogr2ogr"), "gdal-bin is missing: run scripts/setup.sh"
    for i in range(4):
        sample = SAMPLES["demonstrations"][0]
        body = {**sample, "properties": {**sample["properties"], "title": f"GDAL {i}"}}
        assert (await client.post("/api/demonstrations", json=body)).status_code == 201
    source = f"OAPIF:{server.url}{ROOT}"
    layers = _ogr(server, tmp_path, "ogrinfo", "-ro", "-q", source).stdout
    for name in ("incidents", "zones", "logbook", "municipalities", "police_zones"):
        assert f": {name} (" in layers, layers

    expected = {
        f["id"] for f in await _all_items(client, ITEMS.format("demonstrations"), {"limit": "1000"})
    }
    out = tmp_path / "demonstrations.geojson"
    _ogr(
        server,
        tmp_path,
        "ogr2ogr",
        "-oo",
        "PAGE_SIZE=3",
        "-f",
        "GeoJSON",
        str(out),
        source,
        "demonstrations",
    )
    copied = json.loads(out.read_text())["features"]
    assert len(copied) == len(expected) > 3, "more than one page"
    assert {f["properties"]["id"] for f in copied} == expected
