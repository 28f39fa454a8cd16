"""Every object is placed in its municipality and police zone; Belgian Lambert input lands right."""

from __future__ import annotations

import json

import httpx
import pytest
from pyproj import Geod, Transformer

from tests.conftest import REFERENCE_DIR
from tests.samples import feature, point

LANDMARKS = json.loads((REFERENCE_DIR / "landmarks.geojson").read_text())["features"]
GEOD = Geod(ellps="WGS84")


def _incident(geometry: dict, title: str = "Test") -> dict:
    return feature(geometry, title=title, category="other", severity="minor")


@pytest.mark.parametrize("landmark", LANDMARKS, ids=[f["properties"]["name"] for f in LANDMARKS])
async def test_landmark_lands_in_its_expected_municipality_and_zone(
    client: httpx.AsyncClient, landmark
) -> None:
    r = await client.post(
        "/api/incidents", json=_incident(landmark["geometry"], landmark["properties"]["name"])
    )
    assert r.status_code == 201, r.text
    props = r.json()["properties"]
    assert props["municipality"]["code"] == landmark["properties"]["expected_nis"]
    assert props["municipality"]["name_fr"] == landmark["properties"]["expected_name_fr"]
    assert props["police_zone"]["code"] == landmark["properties"]["police_zone"]


async def test_grand_place_is_in_brussels_zone_5339(client: httpx.AsyncClient) -> None:
    props = (await client.post("/api/incidents", json=_incident(point(4.3525, 50.8467)))).json()[
        "properties"
    ]
    assert props["municipality"] == {"code": "21004", "name_fr": "Bruxelles", "name_nl": "Brussel"}
    assert props["police_zone"]["code"] == "5339"


@pytest.mark.parametrize("crs", ["EPSG:31370", "EPSG:3812"])
@pytest.mark.parametrize(
    "landmark", LANDMARKS[:6], ids=[f["properties"]["name"] for f in LANDMARKS[:6]]
)
async def test_lambert_input_lands_within_a_metre_of_its_wgs84_twin(
    client: httpx.AsyncClient, crs, landmark
) -> None:
    lon, lat = landmark["geometry"]["coordinates"]
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    r = await client.post("/api/incidents", params={"crs": crs}, json=_incident(point(x, y)))
    assert r.status_code == 201, r.text
    # The answer is in the CRS asked for; read it back in WGS 84.
    assert r.headers["content-crs"].endswith(crs.split(":")[1] + ">")
    stored = (await client.get(f"/api/incidents/{r.json()['id']}")).json()
    slon, slat = stored["geometry"]["coordinates"]
    _, _, metres = GEOD.inv(lon, lat, slon, slat)
    assert metres < 1.0
    assert stored["properties"]["municipality"]["code"] == landmark["properties"]["expected_nis"]


async def test_read_in_lambert72(client: httpx.AsyncClient) -> None:
    oid = (await client.post("/api/incidents", json=_incident(point(4.3525, 50.8467)))).json()["id"]
    f = (await client.get(f"/api/incidents/{oid}", params={"crs": "EPSG:31370"})).json()
    x, y = f["geometry"]["coordinates"]
    assert 148_000 < x < 150_500 and 169_500 < y < 171_500


async def test_a_line_gets_every_municipality_it_touches(client: httpx.AsyncClient) -> None:
    # Grand-Place (Bruxelles) to Place Flagey (Ixelles)
    route = {
        "type": "LineString",
        "coordinates": [[4.3525, 50.8467], [4.3622, 50.8417], [4.3722, 50.8275]],
    }
    r = await client.post(
        "/api/demonstrations",
        json=feature(
            route,
            title="Cortège",
            starts_at="2026-09-26T10:00:00+02:00",
            ends_at="2026-09-26T12:00:00+02:00",
        ),
    )
    codes = {m["code"] for m in r.json()["properties"]["municipalities"]}
    assert {"21004", "21009"} <= codes
    assert r.json()["properties"]["municipality"]["code"] in codes


async def test_list_filters_by_municipality_and_police_zone(client: httpx.AsyncClient) -> None:
    flagey = (
        await client.post("/api/incidents", json=_incident(point(4.3722, 50.8275), "Flagey"))
    ).json()
    meiser = (
        await client.post("/api/incidents", json=_incident(point(4.3967, 50.8536), "Meiser"))
    ).json()
    in_ixelles = [
        f["id"]
        for f in (
            await client.get("/api/incidents", params={"municipality": "21009", "limit": 1000})
        ).json()["features"]
    ]
    assert flagey["id"] in in_ixelles and meiser["id"] not in in_ixelles
    in_5344 = [
        f["id"]
        for f in (
            await client.get("/api/incidents", params={"police_zone": "5344", "limit": 1000})
        ).json()["features"]
    ]
    assert meiser["id"] in in_5344 and flagey["id"] not in in_5344


async def test_outside_the_region_but_in_belgium_has_no_municipality(
    client: httpx.AsyncClient,
) -> None:
    leuven = point(4.7005, 50.8798)
    props = (await client.post("/api/incidents", json=_incident(leuven))).json()["properties"]
    assert props["municipality"] is None and props["municipalities"] == []
