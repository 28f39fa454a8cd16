"""Landmarks are a reference layer: loaded with the others, served like them, named FR/NL."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.geo.reference import landmark_names, rows_from_geojson
from tests.conftest import REFERENCE_DIR

DATA = json.loads((REFERENCE_DIR / "landmarks.geojson").read_text())


async def test_the_landmark_layer_is_served_with_french_and_dutch_names(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/reference/landmark")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    assert r.headers["cache-control"] == "private, max-age=300"
    features = {f["properties"]["name_fr"]: f for f in r.json()["features"]}
    assert len(features) == len(DATA["features"])
    grand_place = features["Grand-Place"]
    assert grand_place["properties"]["name_nl"] == "Grote Markt"
    assert grand_place["properties"]["layer"] == "landmark"
    assert grand_place["geometry"] == {"type": "Point", "coordinates": [4.3525, 50.8467]}
    assert features["Gare du Midi"]["properties"]["name_nl"] == "Zuidstation"
    assert features["Atomium"]["properties"]["name_nl"] == "Atomium"
    assert grand_place["id"] == grand_place["properties"]["code"] == "grand-place"


async def test_the_layer_list_counts_landmarks(client: httpx.AsyncClient) -> None:
    layers = (await client.get("/api/reference")).json()["layers"]
    assert layers == {"region": 1, "municipality": 19, "police_zone": 6, "landmark": 12}


async def test_loading_twice_keeps_one_copy_and_joins_stay_on_areas(
    sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> None:
    from app.cli import load_reference

    loaded = await load_reference(sessions, [str(REFERENCE_DIR / "landmarks.geojson")])
    assert loaded == {"landmark": 12}
    layers = (await client.get("/api/reference")).json()["layers"]
    assert layers["landmark"] == 12
    # An incident at a landmark is enriched with areas, never with the landmark itself.
    atomium = next(f for f in DATA["features"] if f["properties"]["name"] == "Atomium")
    body = {
        "type": "Feature",
        "geometry": atomium["geometry"],
        "properties": {"title": "Test landmark join", "category": "other", "severity": "minor"},
    }
    props = (await client.post("/api/incidents", json=body)).json()["properties"]
    assert props["municipality"]["code"] == "21004"
    assert [a["code"] for a in props["municipalities"]] == ["21004"]


@pytest.mark.parametrize(
    ("props", "names"),
    [
        ({"name": "Place Flagey / Flageyplein"}, ("Place Flagey", "Flageyplein")),
        ({"name": "Berlaymont (European Commission)"}, ("Berlaymont (European Commission)",) * 2),
        (
            {"name_fr": "Gare Centrale", "name_nl": "Centraal Station"},
            ("Gare Centrale", "Centraal Station"),
        ),
    ],
)
def test_landmark_names_read_as_in_the_data(props: dict[str, Any], names: tuple[str, str]) -> None:
    assert landmark_names(props) == names


def test_a_landmark_layer_refuses_two_places_with_one_code() -> None:
    point = {"type": "Point", "coordinates": [4.35, 50.85]}
    twice = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": point, "properties": {"name": "Atomium"}}] * 2,
    }
    with pytest.raises(ValueError, match="the same code twice: atomium"):
        rows_from_geojson(twice)
