"""CAP over HTTP: every alert as a CAP 1.2 document valid against the OASIS schema, the Atom
feed of current alerts, and CAP ingest turning a received alert into an incident or a zone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from lxml import etree

from app.alerts.lifecycle.cap import NS
from tests.alerts.conftest import alerts_of, incident, place, square
from tests.alerts.test_cap import BILLION_LAUGHS, EXTERNAL_ENTITY, XSD, _minimal
from tests.conftest import eventually

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


async def _rule_alert(make_partner: Any, client: httpx.AsyncClient, **props: Any) -> dict[str, Any]:
    partner = await make_partner()
    lon, lat = place()
    await partner.subscribe(area_kind="polygon", polygon=square(lon, lat))
    r = await client.post("/api/incidents", json=incident(lon, lat, **props))
    assert r.status_code == 201, r.text
    (alert,) = await eventually(lambda: alerts_of(client, partner.code), "the alert")
    return {**alert, "incident": r.json(), "partner": partner}


async def test_every_alert_is_a_valid_cap_document(
    make_partner: Any, client: httpx.AsyncClient, schema: etree.XMLSchema
) -> None:
    alert = await _rule_alert(make_partner, client)
    r = await client.get(f"/api/alerts/{alert['id']}.cap")
    assert r.status_code == 200 and r.headers["content-type"] == "application/cap+xml"
    root = etree.fromstring(r.content)
    schema.assertValid(root)
    assert root.findtext(f"{{{NS}}}identifier") == alert["identifier"]
    assert root.findtext(f"{{{NS}}}sender") == "sitcen@safe.brussels"
    assert root.findtext(f"{{{NS}}}addresses") == alert["partner"].code
    assert not root.findtext(f"{{{NS}}}sent").endswith("Z")


async def test_partner_reads_cap_of_its_own_alerts_only(
    make_partner: Any, client: httpx.AsyncClient
) -> None:
    alert = await _rule_alert(make_partner, client)
    own, other = await alert["partner"].user(), await (await make_partner()).user()
    try:
        assert (await own.get(f"/api/alerts/{alert['id']}.cap")).status_code == 200
        assert (await other.get(f"/api/alerts/{alert['id']}.cap")).status_code == 404
    finally:
        await own.aclose()
        await other.aclose()


async def test_atom_feed_lists_current_alerts_linking_to_cap(
    make_partner: Any, client: httpx.AsyncClient, client_for: Any
) -> None:
    alert = await _rule_alert(make_partner, client)
    r = await client.get("/api/alerts/feed.atom")
    assert r.status_code == 200 and r.headers["content-type"] == "application/atom+xml"
    feed = etree.fromstring(r.content)
    links = [
        e.get("href") for e in feed.iter(f"{ATOM}link") if e.get("type") == "application/cap+xml"
    ]
    assert any(href.endswith(f"/api/alerts/{alert['id']}.cap") for href in links)

    cancel = {
        "msg_type": "Cancel",
        "references": alert["id"],
        "severity": "Minor",
        "event": "Fin",
        "texts": {"fr": {"headline": "Fin d'alerte"}},
    }
    assert (await client_for("coord").post("/api/alerts", json=cancel)).status_code == 201
    feed = etree.fromstring((await client.get("/api/alerts/feed.atom")).content)
    hrefs = [e.get("href") or "" for e in feed.iter(f"{ATOM}link")]
    assert not any(alert["id"] in href for href in hrefs), "a cancelled alert is not current"


async def test_cap_out_then_in_gives_the_same_incident(
    make_partner: Any, client: httpx.AsyncClient
) -> None:
    alert = await _rule_alert(make_partner, client, severity="extreme", category="hazmat")
    document = (await client.get(f"/api/alerts/{alert['id']}.cap")).content
    headers = {"Content-Type": "application/cap+xml"}
    r = await client.post("/api/cap", content=document, headers=headers)
    assert r.status_code == 201, r.text
    original, received = alert["incident"], r.json()
    for field in ("severity", "category", "exercise", "municipality", "police_zone"):
        assert received["properties"][field] == original["properties"][field], field
    assert received["geometry"] == original["geometry"]
    assert received["properties"]["title"] == alert["texts"]["fr"]["headline"]
    assert received["properties"]["external_id"] == alert["identifier"]
    again = await client.post("/api/cap", content=document, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == received["id"]


async def test_cap_polygon_becomes_a_zone(client: httpx.AsyncClient) -> None:
    lon, lat = place()
    ring = square(lon, lat)["coordinates"][0]
    polygon = " ".join(f"{y},{x}" for x, y in ring)
    body = _minimal(identifier="NCCN-DRONES-1", polygon=polygon)
    r = await client.post("/api/cap", params={"entity": "zone", "kind": "drone_ban"}, content=body)
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["kind"] == "drone_ban"
    assert r.json()["geometry"]["coordinates"][0][0] == pytest.approx(ring[0])


@pytest.mark.parametrize(
    "xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion laughs", "external entity"]
)
async def test_malicious_xml_is_refused_with_400(client: httpx.AsyncClient, xml: bytes) -> None:
    r = await client.post("/api/cap", content=xml, headers={"Content-Type": "application/xml"})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert "DTD" in r.json()["detail"]


@pytest.mark.parametrize(
    ("xml", "field"),
    [
        (_minimal(status="Test"), "status"),
        (_minimal(msgType="Ack"), "msgType"),
        (_minimal(msgType="Update"), "references"),
        (_minimal(msgType="Cancel"), "references"),
        (_minimal(severity="Unknown"), "severity"),
        (_minimal(polygon="40.0,4.0 40.0,4.1 40.1,4.1 40.0,4.0"), "area"),
        (_minimal(sent="yesterday"), "sent"),
    ],
    ids=[
        "test message",
        "acknowledgement",
        "update naming nothing",
        "cancel naming nothing",
        "unknown severity",
        "outside Belgium",
        "bad time",
    ],
)
async def test_unusable_cap_is_refused_naming_the_field(
    client: httpx.AsyncClient, xml: bytes, field: str
) -> None:
    r = await client.post("/api/cap", content=xml)
    assert r.status_code == 422, r.text
    assert any(field in e["loc"] for e in r.json()["errors"]), r.json()


async def test_dispatch_key_ingests_under_its_source_and_partners_may_not(client_for: Any) -> None:
    dispatch: httpx.AsyncClient = client_for("dispatch-a")
    lon, lat = place()
    ring = square(lon, lat)["coordinates"][0]
    body = _minimal(identifier="PZ-CAP-7", polygon=" ".join(f"{y},{x}" for x, y in ring))
    r = await dispatch.post("/api/cap", content=body)
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["source"] == "dispatch-a"
    assert (
        await dispatch.post("/api/cap", params={"entity": "zone"}, content=body)
    ).status_code == 403
    assert (await client_for("part").post("/api/cap", content=body)).status_code == 403
