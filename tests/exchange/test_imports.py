"""Imports refuse what the write path refuses, located by row and field, and write nothing of a
file with one refused row; oversized files answer 413; only who may write imports."""

from __future__ import annotations

from typing import Any

import orjson

from tests.conftest import incident
from tests.exchange.helpers import changed_since, head, import_, marker

HEADER = "title,category,severity,external_id,geometry,lon,lat,colour\r\n"


async def test_a_file_with_broken_rows_is_reported_row_by_row_and_nothing_is_written(
    client_for: Any,
) -> None:
    op = client_for("op")
    mark = marker()
    lines = [
        f"{mark} bon,fire,minor,{mark}-1,,4.35,50.84,\r\n",
        f"{mark} catégorie,volcano,minor,{mark}-2,,4.35,50.84,\r\n",
        f"{mark} wkt,fire,minor,{mark}-3,POINT (4.35,,,\r\n",
        f"{mark} colonne,fire,minor,{mark}-4,,4.35,50.84,rouge\r\n",
        f"{mark} cellules,fire,minor\r\n",
        f"{mark} loin,fire,minor,{mark}-6,,-70.0,40.0,\r\n",
        f"{mark} sans id,fire,minor,,,4.35,50.84,\r\n",
    ]
    file = HEADER + "".join(lines)
    start = await head(op)

    dry = await import_(op, "incidents", file, "csv", dry_run=True)
    assert dry.status_code == 200, dry.text
    results = {r["row"]: r for r in dry.json()["results"]}
    assert results[1]["outcome"] == "create"
    fields = {n: [e["field"] for e in r.get("errors", [])] for n, r in results.items()}
    assert fields[2] == ["category"]
    assert fields[3] == ["geometry"]
    assert fields[4] == ["colour"]
    assert fields[5] == ["row"]
    assert fields[6][0].startswith("geometry")
    assert fields[7] == ["external_id"]

    real = await import_(op, "incidents", file, "csv")
    assert real.status_code == 422, real.text
    problem = real.json()
    assert problem["detail"] == "6 of 7 rows refused: nothing was imported"
    assert ["row", 2, "category"] in [e["loc"] for e in problem["errors"]]
    assert await changed_since(op, start, mark) == []


async def test_a_geojson_file_that_is_not_a_feature_collection_is_refused(client_for: Any) -> None:
    op = client_for("op")
    for body in (b"{", b"[]", orjson.dumps(incident())):
        r = await import_(op, "incidents", body, "geojson")
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_an_unknown_format_is_refused(client_for: Any) -> None:
    op = client_for("op")
    r = await op.post(
        "/api/imports/incidents", content=b"x", headers={"Content-Type": "application/pdf"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "format"]
    r = await op.post("/api/imports/incidents", params={"format": "kml"}, content=b"<kml/>")
    assert r.status_code == 422, r.text


async def test_an_oversized_file_is_refused_with_413_and_nothing_written(
    client_for: Any,
) -> None:
    op = client_for("op")
    mark = marker()
    start = await head(op)
    row = f"{mark},fire,minor,{mark}-{{}},,4.35,50.84\r\n"
    too_many = "title,category,severity,external_id,geometry,lon,lat\r\n" + "".join(
        row.format(i) for i in range(5_001)
    )
    r = await import_(op, "incidents", too_many, "csv")
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "SITCEN_IMPORT_MAX_ROWS" in r.json()["detail"]

    too_big = b"title\r\n" + b"x" * 10_000_001
    r = await import_(op, "incidents", too_big, "csv")
    assert r.status_code == 413, r.text
    assert await changed_since(op, start, mark) == []


async def test_only_who_writes_a_kind_imports_it(client_for: Any) -> None:
    mark = marker()
    collection = {
        "type": "FeatureCollection",
        "features": [incident(f"{mark} dispatch", external_id=f"{mark}-1")],
    }
    body = orjson.dumps(collection)
    for who in ("part", "part-b", "reader-op"):
        r = await import_(client_for(who), "incidents", body, "geojson", dry_run=True)
        assert r.status_code == 403, (who, r.text)
    dispatch = client_for("dispatch-a")
    r = await import_(dispatch, "events", b'{"type":"FeatureCollection","features":[]}', "geojson")
    assert r.status_code == 403, r.text
    r = await import_(dispatch, "incidents", body, "geojson")
    assert r.status_code == 200, r.text
    (result,) = r.json()["results"]
    assert result["outcome"] == "create"
    created = await client_for("op").get(f"/api/incidents/{result['id']}")
    props = created.json()["properties"]
    assert (props["created_by"], props["source"]) == ("key:dispatch-a", "dispatch-a")
    # Closing is SITCEN's call: a dispatch system may not close through an import either.
    collection["features"][0]["properties"]["status"] = "false_alarm"
    r = await import_(dispatch, "incidents", orjson.dumps(collection), "geojson")
    assert r.status_code == 422, r.text
    assert "may not close" in r.json()["errors"][0]["msg"]


async def test_a_file_over_the_api_body_limit_but_under_the_import_limit_is_taken(
    client_for: Any,
) -> None:
    """Imports have their own limit (SITCEN_IMPORT_MAX_BYTES, 10 MB), not the API's 1 MB."""
    op = client_for("op")
    mark = marker()
    text = "Relevé détaillé des dégâts. " * 300  # about 8 KB a row
    lines = [f'{mark} {i},fire,minor,{mark}-{i},,4.35,50.84,"{text}"\r\n' for i in range(150)]
    file = "title,category,severity,external_id,geometry,lon,lat,description\r\n" + "".join(lines)
    assert len(file.encode()) > 1_000_000
    r = await import_(op, "incidents", file, "csv", dry_run=True)
    assert r.status_code == 200, r.text[:500]
    assert r.json()["create"] == 150
