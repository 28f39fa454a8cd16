"""Export → import gives the same objects (GeoJSON and CSV); a rerun creates nothing; a dry
run writes nothing; an edited export updates what changed and refuses what changed since."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from tests.exchange.helpers import (
    changed_since,
    comparable,
    csv_rows,
    csv_text,
    export,
    head,
    import_,
    incidents,
    marker,
)


def _expected(original: dict[str, Any]) -> dict[str, Any]:
    """What an object created again from its export holds: the same, but where it had no
    external_id, the import's source and its former id as one (how a rerun finds it)."""
    expected = comparable(original)
    if not original["properties"]["external_id"]:
        expected["properties"].update(source="import", external_id=original["id"])
    return expected


async def _delete_all(adm: httpx.AsyncClient, features: list[dict[str, Any]]) -> None:
    for f in features:
        r = await adm.delete(f"/api/incidents/{f['id']}")
        assert r.status_code == 204, r.text


@pytest.mark.parametrize("fmt", ["geojson", "csv"])
async def test_export_then_import_gives_the_same_objects(client_for: Any, fmt: str) -> None:
    op, adm = client_for("op"), client_for("adm")
    mark = marker()
    await incidents(op, mark)
    before = (await export(op, "incidents", "geojson", q=mark)).json()["features"]
    assert len(before) == 3
    file = (await export(op, "incidents", fmt, q=mark)).content
    await _delete_all(adm, before)
    assert (await export(op, "incidents", "geojson", q=mark)).json()["features"] == []

    r = await import_(op, "incidents", file, fmt)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["create"], report["refused"], report["written"]) == (3, 0, True)

    after = (await export(op, "incidents", "geojson", q=mark)).json()["features"]
    by_title = {f["properties"]["title"]: f for f in after}
    for original in before:
        again = by_title[original["properties"]["title"]]
        assert comparable(again) == _expected(original)
        assert again["properties"]["created_by"] == "op"  # attributed to who imported


@pytest.mark.parametrize("fmt", ["geojson", "csv"])
async def test_importing_the_same_file_again_changes_nothing(client_for: Any, fmt: str) -> None:
    op = client_for("op")
    mark = marker()
    created = await incidents(op, mark)
    file = (await export(op, "incidents", fmt, q=mark)).content
    start = await head(op)
    for _ in range(2):
        r = await import_(op, "incidents", file, fmt)
        assert r.status_code == 200, r.text
        report = r.json()
        assert (report["create"], report["update"], report["unchanged"]) == (0, 0, 3)
    assert await changed_since(op, start, mark) == []  # not one change record
    versions = {
        f["id"]: f["properties"]["version"]
        for f in (await export(op, "incidents", "geojson", q=mark)).json()["features"]
    }
    assert versions == {f["id"]: 1 for f in created}


async def test_a_file_of_new_objects_imported_twice_creates_them_once(client_for: Any) -> None:
    op = client_for("op")
    mark = marker()
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [4.35 + i / 1000, 50.845]},
                "properties": {
                    "title": f"{mark} manifestation {i}",
                    "organiser": "Collectif",
                    "authorisation": "requested",
                    "starts_at": "2026-12-12T14:00:00+01:00",
                    "ends_at": "2026-12-12T17:00:00+01:00",
                    "external_id": f"{mark}-{i}",
                },
            }
            for i in range(4)
        ],
    }
    body = orjson.dumps(collection)
    first = (await import_(op, "demonstrations", body, "geojson")).json()
    again = (await import_(op, "demonstrations", body, "geojson")).json()
    assert (first["create"], again["create"], again["unchanged"]) == (4, 0, 4)
    listed = (await export(op, "demonstrations", "geojson", q=mark)).json()["features"]
    assert sorted(f["properties"]["external_id"] for f in listed) == [
        f"{mark}-{i}" for i in range(4)
    ]
    assert {f["properties"]["source"] for f in listed} == {"import"}


async def test_dry_run_reports_each_row_and_writes_nothing(client_for: Any) -> None:
    op, adm = client_for("op"), client_for("adm")
    mark = marker()
    created = await incidents(op, mark)
    rows = csv_rows((await export(op, "incidents", "csv", q=mark)).text)
    await _delete_all(adm, created[:1])  # row 1 will be created again
    rows[1]["severity"] = "extreme"  # row 2 changes
    start = await head(op)

    r = await import_(op, "incidents", csv_text(rows), "csv", dry_run=True)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["dry_run"], report["written"]) == (True, False)
    outcomes = {row["row"]: row["outcome"] for row in report["results"]}
    assert sorted(outcomes.values()) == ["create", "unchanged", "update"]
    assert await changed_since(op, start, mark) == []
    assert len((await export(op, "incidents", "geojson", q=mark)).json()["features"]) == 2
    severities = {
        f["properties"]["severity"]
        for f in (await export(op, "incidents", "geojson", q=mark)).json()["features"]
    }
    assert "extreme" not in severities

    real = (await import_(op, "incidents", csv_text(rows), "csv")).json()
    assert (real["create"], real["update"], real["unchanged"]) == (1, 1, 1)
    assert len(await changed_since(op, start, mark)) == 2


async def test_an_export_edited_after_the_object_changed_is_refused(client_for: Any) -> None:
    op = client_for("op")
    mark = marker()
    created = await incidents(op, mark)
    rows = csv_rows((await export(op, "incidents", "csv", q=mark)).text)
    target = created[2]
    r = await op.patch(
        f"/api/incidents/{target['id']}",
        json={"type": "Feature", "properties": {"severity": "minor"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    (edited,) = [row for row in rows if row["id"] == target["id"]]
    edited["severity"] = "extreme"
    start = await head(op)

    r = await import_(op, "incidents", csv_text(rows), "csv")
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    row_number = rows.index(edited) + 1
    assert [e["loc"] for e in problem["errors"]] == [["row", row_number, "version"]]
    assert "nothing was imported" in problem["detail"]
    assert await changed_since(op, start, mark) == []
