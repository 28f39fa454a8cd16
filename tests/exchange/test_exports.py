"""Exports: every list as GeoJSON, CSV and KML, with the list's filters and the caller's scope;
cells a spreadsheet would run are escaped; KML a GIS client reads; bad formats refused."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from lxml import etree

from app.exchange.kml import MEDIA_TYPE as KML_TYPE
from app.exchange.kml import NS
from tests.exchange.helpers import A_ORG, B_ORG, SQUARE, create, csv_rows, export, incidents, marker

KML = {"k": NS}


def _ids(fmt: str, body: bytes) -> set[str]:
    """The object ids an export holds, whatever its format."""
    if fmt == "geojson":
        return {f["id"] for f in orjson.loads(body)["features"]}
    if fmt == "csv":
        return {r["id"] for r in csv_rows(body.decode())}
    root = etree.fromstring(body)
    return set(root.xpath("//k:Data[@name='id']/k:value/text()", namespaces=KML))


@pytest.mark.parametrize("fmt", ["geojson", "csv", "kml"])
async def test_an_export_holds_what_the_list_holds_with_the_same_filters(
    client_for: Any, fmt: str
) -> None:
    op = client_for("op")
    mark = marker()
    made = await incidents(op, mark)
    for params in (
        {},
        {"category": "threat"},
        {"status": "ongoing"},
        {"severity": "severe,extreme"},
        {"municipality": "21004"},
    ):
        listed = await op.get("/api/incidents", params={"q": mark, **params})
        expected = {f["id"] for f in listed.json()["features"]}
        r = await export(op, "incidents", fmt, q=mark, **params)
        assert _ids(fmt, r.content) == expected, params
    assert len(_ids(fmt, (await export(op, "incidents", fmt, q=mark)).content)) == len(made)


@pytest.mark.parametrize("fmt", ["geojson", "csv", "kml"])
async def test_a_partner_exports_only_what_is_shared_with_it(client_for: Any, fmt: str) -> None:
    op, part_a, part_b = client_for("op"), client_for("part"), client_for("part-b")
    mark = marker()
    internal, for_a, for_b, for_all = [
        await create(
            op,
            "incidents",
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [4.3525, 50.8467]},
                "properties": {
                    "title": f"{mark} {audience}",
                    "category": "fire",
                    "severity": "minor",
                    **props,
                },
            },
        )
        for audience, props in (
            ("internal", {}),
            ("for A", {"shared_with": [A_ORG]}),
            ("for B", {"shared_with": [B_ORG]}),
            ("for all", {"visibility": "shared"}),
        )
    ]
    seen_a = _ids(fmt, (await export(part_a, "incidents", fmt, q=mark)).content)
    seen_b = _ids(fmt, (await export(part_b, "incidents", fmt, q=mark)).content)
    assert seen_a == {for_a["id"], for_all["id"]}
    assert seen_b == {for_b["id"], for_all["id"]}
    # Nothing of the others' even unfiltered: no id, no title.
    whole = (await export(part_a, "incidents", fmt)).content
    for hidden in (internal, for_b):
        assert hidden["id"].encode() not in whole
        assert hidden["properties"]["title"].encode() not in whole


async def test_csv_cells_a_spreadsheet_would_run_are_escaped(client_for: Any) -> None:
    op = client_for("op")
    mark = marker()
    titles = [f"=cmd|' /C calc'!A0 {mark}", f"+{mark}", f"-{mark}", f"@SUM(1) {mark}"]
    for title in titles:
        await create(
            op,
            "incidents",
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [4.3525, 50.8467]},
                "properties": {
                    "title": title,
                    "category": "fire",
                    "severity": "minor",
                    "place": '=HYPERLINK("http://x")',
                },
            },
        )
    rows = csv_rows((await export(op, "incidents", "csv", q=mark)).text)
    assert sorted(r["title"] for r in rows) == sorted("'" + t for t in titles)
    assert {r["place"] for r in rows} == {'\'=HYPERLINK("http://x")'}
    # Numbers stay numbers; a point has its lon/lat; the geometry is WKT.
    assert {(r["lon"], r["lat"]) for r in rows} == {("4.3525", "50.8467")}
    assert {r["geometry"] for r in rows} == {"POINT (4.3525 50.8467)"}
    assert all(not r[c].startswith(("=", "+", "-", "@")) for r in rows for c in r)


async def test_kml_has_one_placemark_per_object_a_gis_client_reads(client_for: Any) -> None:
    op = client_for("op")
    mark = marker()
    made = await incidents(op, mark)
    zone = await create(
        op,
        "zones",
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
            "properties": {"title": f"{mark} périmètre <A&B>", "kind": "security_perimeter"},
        },
    )
    r = await export(op, "incidents", "kml", q=mark)
    assert r.headers["content-type"] == "application/vnd.google-earth.kml+xml"
    assert "attachment" in r.headers["content-disposition"]
    root = etree.fromstring(r.content)
    assert root.tag == f"{{{NS}}}kml"
    placemarks = root.findall("k:Document/k:Placemark", KML)
    assert len(placemarks) == len(made)
    names = {p.findtext("k:name", namespaces=KML) for p in placemarks}
    assert {m["properties"]["ref"] + " " + m["properties"]["title"] for m in made} == names
    assert all(p.find("k:Point/k:coordinates", KML) is not None for p in placemarks)

    root = etree.fromstring((await export(op, "zones", "kml", q=mark)).content)
    (placemark,) = root.findall("k:Document/k:Placemark", KML)
    assert placemark.findtext("k:name", namespaces=KML).endswith("périmètre <A&B>")
    ring = placemark.findtext(
        "k:Polygon/k:outerBoundaryIs/k:LinearRing/k:coordinates", namespaces=KML
    )
    assert ring.split()[0] == "4.35,50.84" and len(ring.split()) == 5
    assert placemark.get("id") == f"zone-{zone['id']}"


async def test_the_format_can_be_asked_by_accept(client_for: Any) -> None:
    op = client_for("op")
    r = await op.get(
        "/api/exports/incidents", params={"q": marker()}, headers={"Accept": "text/csv"}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    r = await op.get("/api/exports/incidents", params={"q": marker()})
    assert r.headers["content-type"] == "application/geo+json"
    assert r.json()["features"] == [] and isinstance(r.json()["head"], int)


async def test_an_unknown_format_or_filter_is_refused_with_a_problem(client_for: Any) -> None:
    op = client_for("op")
    for params in ({"format": "xlsx"}, {"format": "csv", "status": "burning"}):
        r = await op.get("/api/exports/incidents", params=params)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["loc"][:2] in (["query", "format"], ["query", "status"])


async def test_an_ogc_collection_offers_its_exports_as_enclosures(client_for: Any) -> None:
    op = client_for("op")
    mark = marker()
    made = await incidents(op, mark)
    collection = (await op.get("/api/features/collections/incidents")).json()
    enclosures = {
        link["type"]: link["href"] for link in collection["links"] if link["rel"] == "enclosure"
    }
    assert set(enclosures) == {"application/geo+json", "text/csv", KML_TYPE}
    r = await op.get(f"{enclosures['text/csv']}&q={mark}")
    assert r.status_code == 200 and len(csv_rows(r.text)) == len(made)
    ogc = await op.get(
        "/api/features/collections/incidents/items", params={"q": mark, "severity": "severe"}
    )
    assert [f["id"] for f in ogc.json()["features"]] == [made[0]["id"]]
