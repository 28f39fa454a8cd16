"""Every kind of bad input gets a clear 4xx problem+json naming the place, and changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from typing import Any

import httpx
import pytest

from tests.alerts.test_cap import _minimal
from tests.conftest import TIMEOUT, Server
from tests.samples import (
    GRAND_PLACE,
    SAMPLES,
    feature,
    folded,
    point,
    star,
    twisted_circle,
    zigzag,
)


def incident_with(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(SAMPLES["incidents"][0])
    for key, value in changes.items():
        if key in ("geometry", "type"):
            body[key] = value
        else:
            body["properties"][key] = value
    return body


def without(key: str) -> dict[str, Any]:
    body = copy.deepcopy(SAMPLES["incidents"][0])
    body["properties"].pop(key)
    return body


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[4.35, 50.84], [4.36, 50.85], [4.36, 50.84], [4.35, 50.85], [4.35, 50.84]]],
}
UNCLOSED = {
    "type": "Polygon",
    "coordinates": [[[4.35, 50.84], [4.36, 50.84], [4.36, 50.85], [4.35, 50.85]]],
}
HUGE = {"type": "LineString", "coordinates": [[4.3 + i * 1e-6, 50.84] for i in range(10_001)]}
# Times at the far ends of what Python (and the database driver) holds: in UTC the first is in
# year 0 and the second in year 10000.
BEFORE_YEAR_1 = "0001-01-01T00:00:00+14:00"
AFTER_YEAR_9999 = "9999-12-31T23:59:59-14:00"

# (case, body, query, expected status, a location the problem must name, words in its detail)
CASES: list[tuple[str, Any, dict[str, str], int, list[Any] | None, str]] = [
    (
        "unknown property",
        incident_with(colour="red"),
        {},
        422,
        ["body", "properties", "colour"],
        "unknown",
    ),
    (
        "unknown category",
        incident_with(category="alien"),
        {},
        422,
        ["body", "properties", "category"],
        "",
    ),
    ("missing title", without("title"), {}, 422, ["body", "properties", "title"], ""),
    ("empty title", incident_with(title=""), {}, 422, ["body", "properties", "title"], ""),
    (
        "title too long",
        incident_with(title="x" * 201),
        {},
        422,
        ["body", "properties", "title"],
        "",
    ),
    (
        "naive time",
        incident_with(occurred_at="2026-09-26T10:00:00"),
        {},
        422,
        ["body", "properties", "occurred_at"],
        "timezone",
    ),
    (
        "starts closed",
        incident_with(status="closed"),
        {},
        422,
        ["body", "properties", "status"],
        "starts as",
    ),
    (
        "external id without source",
        incident_with(external_id="X-1"),
        {},
        422,
        ["body", "properties", "external_id"],
        "source",
    ),
    ("not a Feature", incident_with(type="Point"), {}, 422, ["body", "type"], ""),
    (
        "missing geometry",
        incident_with(geometry=None),
        {},
        422,
        ["body", "geometry"],
        "needs a geometry",
    ),
    (
        "swapped lat/lon",
        incident_with(geometry=point(50.8467, 4.3525)),
        {},
        422,
        ["body", "geometry", "coordinates"],
        "[longitude, latitude]",
    ),
    (
        "far outside Belgium",
        incident_with(geometry=point(2.35, 48.85)),
        {},
        422,
        ["body", "geometry", "coordinates"],
        "outside Belgium",
    ),
    (
        "self-intersecting polygon",
        incident_with(geometry=BOWTIE),
        {},
        422,
        ["body", "geometry", "coordinates"],
        "Self-intersection",
    ),
    (
        "unclosed ring",
        incident_with(geometry=UNCLOSED),
        {},
        422,
        ["body", "geometry", "coordinates", 0],
        "not closed",
    ),
    (
        "empty geometry",
        incident_with(geometry={"type": "MultiPoint", "coordinates": []}),
        {},
        422,
        ["body", "geometry", "coordinates"],
        "empty",
    ),
    (
        "non-numeric coordinate",
        incident_with(geometry={"type": "Point", "coordinates": [4.35, "x"]}),
        {},
        422,
        ["body", "geometry", "coordinates", 1],
        "number",
    ),
    (
        "unknown geometry type",
        incident_with(geometry={"type": "Circle", "coordinates": [4.35, 50.8]}),
        {},
        422,
        ["body", "geometry", "type"],
        "unknown geometry type",
    ),
    ("too many vertices", incident_with(geometry=HUGE), {}, 422, None, "10000 vertices"),
    (
        "Lambert label on degrees",
        incident_with(geometry=point(*GRAND_PLACE)),
        {"crs": "EPSG:31370"},
        422,
        ["body", "geometry", "coordinates"],
        "lon/lat",
    ),
    (
        "unsupported CRS",
        SAMPLES["incidents"][0],
        {"crs": "EPSG:3857"},
        400,
        ["query", "crs"],
        "EPSG:31370",
    ),
    ("not JSON", "{not json", {}, 422, None, ""),
    # Text no person types (app/text.py): PostgreSQL, XML and mail headers cannot carry it.
    ("NUL in a title", incident_with(title="Feu\u0000"), {}, 422, None, "properties.title"),
    (
        "control character in a list",
        incident_with(shared_with=["stib\u0007"]),
        {},
        422,
        None,
        "properties.shared_with.0: control character U+0007",
    ),
    (
        "lone surrogate",
        json.dumps(incident_with(description="\ud800")),
        {},
        422,
        None,
        "U+D800",
    ),
    (
        "a time before year 1 in UTC",
        incident_with(occurred_at=BEFORE_YEAR_1),
        {},
        422,
        ["body", "properties", "occurred_at"],
        "out of range",
    ),
    (
        "a time after year 9999 in UTC",
        incident_with(occurred_at=AFTER_YEAR_9999),
        {},
        422,
        ["body", "properties", "occurred_at"],
        "out of range",
    ),
    (
        "an event ending after year 9999 in UTC",
        feature(
            point(4.334, 50.8957),
            title="Match",
            kind="sports_match",
            starts_at="2026-10-14T20:00:00+02:00",
            ends_at=AFTER_YEAR_9999,
        ),
        {},
        422,
        ["body", "properties", "ends_at"],
        "out of range",
    ),
    # Outlines whose repair would take seconds to minutes of CPU (bench/geometry_repair.py).
    (
        "repair of a zig-zag crossing itself thousands of times",
        incident_with(geometry=zigzag(9990)),
        {"repair": "true"},
        422,
        ["body", "geometry", "coordinates"],
        "too many to repair",
    ),
    (
        "repair of a star whose edges cross each other",
        incident_with(geometry=star(100)),
        {"repair": "true"},
        422,
        ["body", "geometry", "coordinates"],
        "too many to repair",
    ),
    (
        "repair of an outline folded onto itself",
        incident_with(geometry=folded(2000)),
        {"repair": "true"},
        422,
        ["body", "geometry", "coordinates"],
        "too many to repair",
    ),
    (
        "event ends before it starts",
        feature(
            point(4.334, 50.8957),
            title="Match",
            kind="sports_match",
            starts_at="2026-10-14T20:00:00+02:00",
            ends_at="2026-10-14T18:00:00+02:00",
        ),
        {},
        422,
        ["body", "properties", "ends_at"],
        "after",
    ),
]


async def _head(client: httpx.AsyncClient) -> int:
    return int((await client.get("/api/changes", params={"limit": 1})).json()["head"])


@pytest.mark.parametrize(
    ("case", "body", "query", "status", "loc", "words"), CASES, ids=[c[0] for c in CASES]
)
async def test_bad_create_is_refused_clearly_and_changes_nothing(
    client: httpx.AsyncClient,
    case: str,
    body: Any,
    query: dict[str, str],
    status: int,
    loc: list[Any] | None,
    words: str,
) -> None:
    collection = (
        "events"
        if "kind" in (body.get("properties") or {} if isinstance(body, dict) else {})
        else "incidents"
    )
    before = await _head(client)
    if isinstance(body, str):
        r = await client.post(
            f"/api/{collection}",
            content=body,
            params=query,
            headers={"Content-Type": "application/json"},
        )
    else:
        r = await client.post(f"/api/{collection}", json=body, params=query)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert problem["status"] == status
    assert words in problem["detail"] or any(words in e["msg"] for e in problem.get("errors", []))
    if loc is not None:
        assert loc in [e["loc"] for e in problem["errors"]], problem
    assert await _head(client) == before


async def test_oversized_body_is_refused_with_413(client: httpx.AsyncClient) -> None:
    body = incident_with(description="x" * 1_100_000)
    r = await client.post("/api/incidents", json=body)
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"


async def test_oversized_chunked_body_is_refused_with_413_too(client: httpx.AsyncClient) -> None:
    """A streamed body announces no length: it is counted as it arrives."""
    body = json.dumps(incident_with(description="x" * 1_100_000)).encode()

    async def chunks() -> Any:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    before = await _head(client)
    r = await client.post(
        "/api/incidents", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "1000000 bytes" in r.json()["detail"]
    assert await _head(client) == before


async def test_oversized_headers_are_refused_with_431_and_the_server_carries_on(
    server: Server,
) -> None:
    """8 MB of headers once went into memory whole; past 16 KiB the server answers 431."""
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /api/health HTTP/1.1\r\nHost: sitcen\r\nConnection: close\r\nX-Padding: ")
    with contextlib.suppress(ConnectionError):  # the server may answer, and stop reading, early
        for _ in range(8 * 16):  # 8 MB in 64 KiB pieces
            writer.write(b"x" * 64 * 1024)
            await writer.drain()
        writer.write(b"\r\n\r\n")
        await writer.drain()
    answer = b""
    with contextlib.suppress(ConnectionError):
        answer = await asyncio.wait_for(reader.read(), TIMEOUT)
    writer.close()
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 431 Request Header Fields Too Large", answer[:200]
    assert b"content-type: application/problem+json" in rest.lower()
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["status"] == 431
    async with httpx.AsyncClient(base_url=server.url) as c:
        assert (await c.get("/api/health")).status_code == 200
        ok = await c.get("/api/health", headers={"X-Padding": "x" * 8000})
        assert ok.status_code == 200, "ordinary headers pass"


async def test_repair_on_request_says_it_repaired(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/zones",
        params={"repair": "true"},
        json=feature(BOWTIE, title="Zone rouge", kind="red_zone"),
    )
    assert r.status_code == 201, r.text
    assert any("repaired" in n for n in r.json()["notes"])
    assert r.json()["geometry"]["type"] == "MultiPolygon"


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ({"bbox": "4.3,50.8,4.2"}, ["query", "bbox"]),
        ({"bbox": "a,b,c,d"}, ["query", "bbox"]),
        ({"status": "burning"}, ["query", "status"]),
        ({"category": "alien"}, ["query", "category"]),
        ({"start": "yesterday"}, ["query", "start"]),
        ({"at": "2026-09-26T10:00:00"}, ["query", "at"]),
        ({"at": AFTER_YEAR_9999}, ["query", "at"]),
        ({"at": BEFORE_YEAR_1}, ["query", "at"]),
        ({"start": BEFORE_YEAR_1}, ["query", "start"]),
        ({"end": AFTER_YEAR_9999}, ["query", "end"]),
        ({"bbox": "-inf,-inf,inf,inf"}, ["query", "bbox"]),
        ({"bbox": "4.3,nan,4.4,50.9"}, ["query", "bbox"]),
        ({"bbox": "4.3,50.8,1e999,50.9"}, ["query", "bbox"]),
        ({"limit": "0"}, ["query", "limit"]),
        ({"limit": "100000"}, ["query", "limit"]),
    ],
)
async def test_bad_list_query_names_the_parameter(
    client: httpx.AsyncClient, query: dict[str, str], loc: list[str]
) -> None:
    r = await client.get("/api/incidents", params=query)
    assert r.status_code == 422, r.text
    assert loc in [e["loc"] for e in r.json()["errors"]]


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ({"datetime": AFTER_YEAR_9999}, "datetime"),
        ({"datetime": f"{BEFORE_YEAR_1}/.."}, "datetime"),
        ({"datetime": f"../{AFTER_YEAR_9999}"}, "datetime"),
        ({"bbox": "-inf,-inf,inf,inf"}, "bbox"),
        ({"bbox": "4.3,50.8,0,4.4,50.9,nan"}, "bbox"),
    ],
)
async def test_bad_ogc_query_is_400_naming_the_parameter(
    client: httpx.AsyncClient, query: dict[str, str], loc: str
) -> None:
    r = await client.get("/api/features/collections/incidents/items", params=query)
    assert r.status_code == 400, r.text
    assert ["query", loc] in [e["loc"] for e in r.json()["errors"]]


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/api/audit", None, ["query", "since"]),
        ("/api/apikeys", {"name": "far-future", "expires_at": AFTER_YEAR_9999}, None),
        (
            "/api/alerts",
            {
                "severity": "Minor",
                "event": "Test",
                "texts": {"fr": {"headline": "Test"}},
                "organisations": "all",
                "expires_at": AFTER_YEAR_9999,
            },
            None,
        ),
    ],
)
async def test_far_end_times_are_refused_wherever_a_time_comes_in(
    client_for: Any, path: str, body: dict[str, Any] | None, loc: list[str] | None
) -> None:
    admin = client_for("adm")
    if body is None:
        r = await admin.get(path, params={"since": BEFORE_YEAR_1})
    else:
        r = await admin.post(path, json=body)
    assert r.status_code == 422, r.text
    assert (loc or ["body", "expires_at"]) in [e["loc"] for e in r.json()["errors"]]


@pytest.mark.parametrize("oid", ["not-a-uuid", "01890000-0000-7000-8000-000000000000"])
async def test_unknown_object_is_404(client: httpx.AsyncClient, oid: str) -> None:
    r = await client.get(f"/api/incidents/{oid}")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("oid", ["a%2Fb", "..%2F.."])
async def test_a_malformed_id_answers_a_post_as_it_answers_a_get(client_for: Any, oid: str) -> None:
    """An id holding a slash matches no route: the API answers 404, whatever the method, and
    never as the dashboard's file server would (405, Allow: GET, HEAD)."""
    admin = client_for("adm")
    read = await admin.get(f"/api/alerts/{oid}")
    ack = await admin.post(f"/api/alerts/{oid}/ack", json={})
    retry = await admin.post(f"/api/alerts/deliveries/{oid}/retry")
    empty = await admin.post("/api/alerts//ack", json={})
    for r in (read, ack, retry, empty):
        assert r.status_code == 404, (r.request.url, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"


async def test_a_method_a_route_lacks_is_405_naming_the_methods_it_has(
    client: httpx.AsyncClient,
) -> None:
    r = await client.put("/api/incidents", json={})
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/problem+json"
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


async def test_a_large_outline_with_one_mistake_is_repaired(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/incidents",
        params={"repair": "true"},
        json=incident_with(geometry=twisted_circle(9990)),
    )
    assert r.status_code == 201, r.text
    assert any("repaired" in n for n in r.json()["notes"])


async def test_bad_if_match_is_refused(client: httpx.AsyncClient) -> None:
    f = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()
    r = await client.patch(
        f"/api/incidents/{f['id']}",
        json={"type": "Feature", "properties": {"title": "x"}},
        headers={"If-Match": "abc"},
    )
    assert r.status_code == 422
    assert ["header", "If-Match"] in [e["loc"] for e in r.json()["errors"]]


async def test_patch_cannot_null_a_required_field(client: httpx.AsyncClient) -> None:
    f = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()
    r = await client.patch(
        f"/api/incidents/{f['id']}",
        json={"type": "Feature", "properties": {"title": None}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 422
    assert ["body", "properties", "title"] in [e["loc"] for e in r.json()["errors"]]


@pytest.mark.parametrize("path", ["/api/incidents", "/api/features/collections/incidents/items"])
@pytest.mark.parametrize("value", ["\u0000", "a\u001bb"])
async def test_control_characters_in_a_query_are_refused_with_400(
    client: httpx.AsyncClient, path: str, value: str
) -> None:
    r = await client.get(path, params={"q": value})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert ["query", "q"] in [e["loc"] for e in r.json()["errors"]]


async def test_a_change_seq_past_bigint_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/changes", params={"since": str(2**63)})
    assert r.status_code == 422, r.text
    assert ["query", "since"] in [e["loc"] for e in r.json()["errors"]]


@pytest.mark.parametrize("sent", [BEFORE_YEAR_1, AFTER_YEAR_9999])
async def test_a_cap_message_sent_at_a_far_end_time_is_refused_naming_it(
    client: httpx.AsyncClient, sent: str
) -> None:
    before = await _head(client)
    r = await client.post(
        "/api/cap", content=_minimal(sent=sent), headers={"Content-Type": "application/xml"}
    )
    assert r.status_code == 422, r.text
    assert ["body", "alert", "sent"] in [e["loc"] for e in r.json()["errors"]]
    assert await _head(client) == before


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_a_named_operation_beside_the_object_routes_is_not_taken_for_an_id(
    client_for: Any, method: str
) -> None:
    """`/api/activations/open` is an operation (POST), not an activation called "open"."""
    r = await client_for("adm").request(method, "/api/activations/open", json={})
    assert r.status_code == 405, r.text
    assert r.headers["allow"].replace(" ", "") == "POST"
