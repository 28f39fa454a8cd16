"""Reports from the field (issue 21): POST /api/field-reports makes an incident in status
`reported` (the watch's draft to confirm) at the reporter's position, with the photo attached,
by the reporter; a partner's is seen by its organisation and SITCEN, never by another partner;
a body that is not a photo, a photo over the limit, a blank note or a position off the earth is
refused with a problem that says what and where, and nothing is written."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.documents import files
from tests.documents.conftest import counts

HERE = {"lon": 4.3572, "lat": 50.8466}


async def test_an_officers_report_becomes_an_incident_to_confirm_with_its_photo(
    client_for: Any,
) -> None:
    op, coord = client_for("op"), client_for("coord")
    note = f"Colis suspect sous un banc, Mont des Arts {time.monotonic_ns()}"
    photo = files.jpeg(64, 48)
    r = await op.post(
        "/api/field-reports",
        params={**HERE, "note": note, "category": "public_order", "accuracy": 8.4,
                "filename": "banc.jpg"},
        content=photo,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    incident, document = r.json()["incident"], r.json()["document"]
    assert r.headers["location"] == f"/api/incidents/{incident['id']}"
    p = incident["properties"]
    assert (p["status"], p["category"], p["created_by"]) == ("reported", "public_order", "op")
    assert p["visibility"] == "internal" and p["shared_with"] == []
    assert p["title"] == note and "50.84660, 4.35720 (± 8 m)" in p["description"]
    assert incident["geometry"] == {"type": "Point", "coordinates": [4.3572, 50.8466]}
    d = document["properties"]
    assert (d["subject_id"], d["filename"], d["content_type"]) == (
        incident["id"], "banc.jpg", "image/jpeg"
    )  # fmt: skip
    # The watch reads both; the photo is the bytes sent.
    seen = await coord.get(f"/api/incidents/{incident['id']}")
    assert seen.status_code == 200 and seen.json()["properties"]["status"] == "reported"
    content = await coord.get(f"/api/documents/{document['id']}/content")
    assert content.content == photo
    # The watch confirms it as any incident.
    r = await coord.patch(
        f"/api/incidents/{incident['id']}",
        json={"type": "Feature", "properties": {"status": "confirmed"}},
        headers={"If-Match": f'"{p["version"]}"'},
    )
    assert r.status_code == 200, r.text


async def test_a_partners_report_is_seen_by_its_organisation_and_sitcen_only(
    client_for: Any,
) -> None:
    a, b, op = client_for("part"), client_for("part-b"), client_for("op")
    note = f"Barrière renversée, périmètre nord {time.monotonic_ns()}"
    r = await a.post("/api/field-reports", params={**HERE, "note": note}, content=files.png(8, 8))
    assert r.status_code == 201, r.text
    incident, document = r.json()["incident"], r.json()["document"]
    p = incident["properties"]
    assert p["created_by"] == "part" and p["visibility"] == "internal"
    assert p["shared_with"] == ["pz-5339"]
    for path in (f"/api/incidents/{incident['id']}", f"/api/documents/{document['id']}/content"):
        assert (await a.get(path)).status_code == 200, path
        assert (await op.get(path)).status_code == 200, path
        hidden, unknown = await b.get(path), await b.get(path.replace(
            incident["id"] if "incidents" in path else document["id"], str(uuid.uuid4())
        ))  # fmt: skip
        assert hidden.status_code == unknown.status_code == 404, path
        assert hidden.json()["title"] == unknown.json()["title"]
    listed = await b.get("/api/incidents", params={"q": note})
    assert note not in listed.text


async def test_a_report_without_a_photo_is_an_incident_alone(client_for: Any) -> None:
    r = await client_for("op").post("/api/field-reports", params={**HERE, "note": "Fumée"})
    assert r.status_code == 201, r.text
    assert r.json()["document"] is None


async def test_what_is_not_a_report_is_refused_and_nothing_is_written(
    client_for: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    op = client_for("op")
    before = await counts(sessions)
    cases = [
        ({**HERE, "note": "Un PDF"}, files.pdf(1), 415, "not a photo"),
        ({**HERE, "note": "Un texte"}, files.TEXT, 415, "not a photo"),
        ({**HERE, "note": "   "}, b"", 422, "query.note"),
        ({"lon": 181, "lat": 50.8, "note": "Hors de la Terre"}, b"", 422, "lon"),
        ({"lon": 4.35, "note": "Sans latitude"}, b"", 422, "lat"),
        ({**HERE, "note": "x", "category": "alien"}, b"", 422, "category"),
    ]
    for params, body, status, where in cases:
        r = await op.post("/api/field-reports", params=params, content=body)
        assert r.status_code == status, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert where in r.text, (where, r.text)
    # Over the photo limit (20 MB, above the API's 1 MB for other bodies): refused from its
    # announced length.
    r = await op.post(
        "/api/field-reports", params={**HERE, "note": "Trop grand"}, content=b"\xff" * 20_000_001
    )
    assert r.status_code == 413 and r.json()["max_bytes"] == 20_000_000
    assert await counts(sessions) == before
