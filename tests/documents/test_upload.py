"""Uploading, versioning and downloading documents through the API: the type read from the
bytes, the limits, the headers of a download, and every refusal leaving nothing behind."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import AuditEvent
from app.domain.registry import SPECS
from tests.conftest import Server, Settings, auth, eventually, start_server, stop_server
from tests.documents import files
from tests.documents.conftest import counts, make_incident, upload
from tests.samples import SAMPLES, linked

ACCEPTED = [
    ("rapport.pdf", files.pdf, "application/pdf"),
    ("photo.png", lambda: files.png(64, 48), "image/png"),
    ("photo.jpg", files.jpeg, "image/jpeg"),
    (
        "note.docx",
        files.docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("note.odt", files.odt, "application/vnd.oasis.opendocument.text"),
    ("contacts.csv", lambda: files.CSV, "text/csv"),
    ("sitrep.txt", lambda: files.TEXT, "text/plain"),
    ("message.eml", lambda: files.EML, "message/rfc822"),
]


@pytest.mark.parametrize(("filename", "make", "expected"), ACCEPTED)
async def test_an_accepted_file_is_stored_with_its_sniffed_type_and_comes_back_whole(
    client: httpx.AsyncClient, filename: str, make: Any, expected: str
) -> None:
    subject = await make_incident(client)
    data = make()
    # The client's Content-Type is not believed either way.
    r = await client.post(
        "/api/documents",
        params={"subject_entity": "incident", "subject_id": subject["id"], "filename": filename},
        content=data,
        headers={"Content-Type": "application/x-anything"},
    )
    assert r.status_code == 201, r.text
    doc = r.json()
    props = doc["properties"]
    assert r.headers["Location"] == f"/api/documents/{doc['id']}"
    assert props["ref"].startswith("DOC-")
    assert (props["content_type"], props["size"]) == (expected, len(data))
    assert props["sha256"] == hashlib.sha256(data).hexdigest()
    assert (props["filename"], props["title"], props["current_version"]) == (filename, filename, 1)
    assert (props["subject_entity"], props["subject_id"]) == ("incident", subject["id"])
    assert props["shareable"] is False and props["visibility"] == "internal"
    (version,) = props["versions"]
    assert version["version"] == 1 and version["by"] == "op" and version["size"] == len(data)

    got = await client.get(f"/api/documents/{doc['id']}/content")
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-type"].split(";")[0] == expected
    assert got.headers["content-length"] == str(len(data))
    assert got.headers["etag"] == f'"{props["sha256"]}"'
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment;")


async def test_a_filename_is_given_back_in_utf8_with_an_ascii_fallback(
    client: httpx.AsyncClient,
) -> None:
    subject = await make_incident(client)
    r = await upload(client, subject, files.pdf(), filename="Évacuation — plan «B».pdf")
    assert r.status_code == 201, r.text
    got = await client.get(f"/api/documents/{r.json()['id']}/content")
    disposition = got.headers["content-disposition"]
    assert "filename*=UTF-8''%C3%89vacuation%20%E2%80%94%20plan%20%C2%ABB%C2%BB.pdf" in disposition
    assert 'filename="_vacuation _ plan _B_.pdf"' in disposition


async def test_a_path_in_the_filename_is_dropped(client: httpx.AsyncClient) -> None:
    subject = await make_incident(client)
    r = await upload(client, subject, files.pdf(), filename="..\\..\\etc/passwd.pdf")
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["filename"] == "passwd.pdf"


async def test_a_new_version_keeps_the_earlier_ones(client: httpx.AsyncClient) -> None:
    subject = await make_incident(client)
    first = files.pdf(1)
    r = await upload(client, subject, first, title="Plan particulier")
    doc = r.json()
    second = files.png(32, 32)
    r = await client.post(
        f"/api/documents/{doc['id']}/versions",
        params={"filename": "plan-v2.png"},
        content=second,
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 201, r.text
    props = r.json()["properties"]
    assert (props["current_version"], props["version"], props["title"]) == (
        2,
        2,
        "Plan particulier",
    )
    assert (props["filename"], props["content_type"]) == ("plan-v2.png", "image/png")
    assert [v["version"] for v in props["versions"]] == [1, 2]
    assert [v["content_type"] for v in props["versions"]] == ["application/pdf", "image/png"]
    assert (await client.get(f"/api/documents/{doc['id']}/content")).content == second
    old = await client.get(f"/api/documents/{doc['id']}/content", params={"version": 1})
    assert old.content == first and old.headers["content-type"] == "application/pdf"
    missing = await client.get(f"/api/documents/{doc['id']}/content", params={"version": 3})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    # A stale If-Match: refused, nothing added.
    stale = await client.post(
        f"/api/documents/{doc['id']}/versions", content=first, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    now = (await client.get(f"/api/documents/{doc['id']}")).json()["properties"]
    assert now["current_version"] == 2


async def test_history_shows_each_version_as_a_change(client: httpx.AsyncClient) -> None:
    subject = await make_incident(client)
    doc = (await upload(client, subject, files.pdf())).json()
    await client.post(f"/api/documents/{doc['id']}/versions", content=files.pdf(3))
    history = (await client.get(f"/api/documents/{doc['id']}/history")).json()["changes"]
    assert [c["op"] for c in history] == ["created", "updated"]
    assert history[-1]["feature"]["properties"]["current_version"] == 2


REFUSED = [
    ("setup.pdf", files.ELF, "application/x-executable"),
    ("facture.pdf", files.WINDOWS_EXE, "application/x-dosexec"),
    ("logo.svg", files.SVG, "image/svg+xml"),
    ("page.html", files.HTML, "text/html"),
]


@pytest.mark.parametrize(("filename", "data", "sniffed"), REFUSED)
async def test_a_forbidden_or_forged_type_is_refused_naming_what_it_is_and_nothing_is_written(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    filename: str,
    data: bytes,
    sniffed: str,
) -> None:
    subject = await make_incident(client)
    before = await counts(sessions)
    r = await client.post(
        "/api/documents",
        params={"subject_entity": "incident", "subject_id": subject["id"], "filename": filename},
        content=data,
        headers={"Content-Type": "application/pdf"},
    )
    assert r.status_code == 415, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["sniffed"] == sniffed and sniffed in problem["detail"]
    assert "application/pdf" in problem["allowed"]
    assert await counts(sessions) == before


async def test_a_forged_new_version_is_refused_and_the_document_is_unchanged(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    subject = await make_incident(client)
    doc = (await upload(client, subject, files.pdf())).json()
    before = await counts(sessions)
    r = await client.post(f"/api/documents/{doc['id']}/versions", content=files.ELF)
    assert r.status_code == 415
    assert await counts(sessions) == before
    assert (await client.get(f"/api/documents/{doc['id']}")).json()["properties"]["version"] == 1


@pytest.mark.parametrize(
    ("entity", "oid", "field"),
    [
        ("incident", str(uuid.uuid4()), "subject_id"),
        ("no_such_kind", str(uuid.uuid4()), "subject_entity"),
        ("document", str(uuid.uuid4()), "subject_entity"),
    ],
)
async def test_an_unknown_subject_is_refused_naming_the_field_and_nothing_is_written(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    entity: str,
    oid: str,
    field: str,
) -> None:
    before = await counts(sessions)
    r = await client.post(
        "/api/documents",
        params={"subject_entity": entity, "subject_id": oid, "filename": "a.pdf"},
        content=files.pdf(),
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"][-1] == field
    assert await counts(sessions) == before


async def test_an_empty_file_or_a_missing_name_is_refused(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    subject = await make_incident(client)
    before = await counts(sessions)
    empty = await upload(client, subject, b"")
    assert empty.status_code == 422 and empty.json()["errors"][0]["loc"] == ["body"]
    nameless = await client.post(
        "/api/documents",
        params={"subject_entity": "incident", "subject_id": subject["id"]},
        content=files.pdf(),
    )
    assert nameless.status_code == 422
    assert nameless.json()["errors"][0]["loc"][-1] == "filename"
    assert await counts(sessions) == before


async def test_every_download_is_audited_with_who_what_and_when(
    client: httpx.AsyncClient, client_for: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    subject = await make_incident(client)
    doc = (await upload(client, subject, files.pdf())).json()
    await client.post(f"/api/documents/{doc['id']}/versions", content=files.pdf(3))
    coord = client_for("coord")
    assert (await coord.get(f"/api/documents/{doc['id']}/content")).status_code == 200
    assert (
        await coord.get(f"/api/documents/{doc['id']}/content", params={"version": 1})
    ).status_code == 200
    async with sessions() as session:
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.kind == "document_download",
                    AuditEvent.detail["document"].astext == doc["id"],
                )
                .order_by(AuditEvent.id)
            )
        ).all()
    assert [(e.subject, e.detail["version"]) for e in events] == [("coord", 2), ("coord", 1)]
    assert events[0].detail["ref"] == doc["properties"]["ref"]
    assert all(e.at is not None for e in events)
    # And through the audit API, for an administrator.
    adm = client_for("adm")
    listed = (await adm.get("/api/audit", params={"kind": "document_download"})).json()
    assert any(e["detail"].get("document") == doc["id"] for e in listed["events"])


async def test_a_document_is_listed_by_subject_and_by_activation(
    client: httpx.AsyncClient,
) -> None:
    activation = (
        await client.post(
            "/api/activations",
            json={
                "type": "Feature",
                "geometry": None,
                "properties": {"title": "GCC", "level": "coordination"},
            },
        )
    ).json()
    position = (
        await client.post(
            "/api/positions",
            json={
                "type": "Feature",
                "geometry": None,
                "properties": {"title": "D1", "activation_id": activation["id"], "role": "d1"},
            },
        )
    ).json()
    on_cell = (await upload(client, activation, files.pdf())).json()
    on_seat = (await upload(client, position, files.pdf())).json()
    assert on_cell["properties"]["activation_id"] == activation["id"]
    assert on_seat["properties"]["activation_id"] == activation["id"]
    listed = await client.get("/api/documents", params={"activation": activation["id"]})
    assert {f["id"] for f in listed.json()["features"]} == {on_cell["id"], on_seat["id"]}
    by_subject = await client.get("/api/documents", params={"subject": position["id"]})
    assert [f["id"] for f in by_subject.json()["features"]] == [on_seat["id"]]


async def test_a_deleted_document_takes_its_files_along(
    client: httpx.AsyncClient, client_for: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    subject = await make_incident(client)
    before = await counts(sessions)
    doc = (await upload(client, subject, files.pdf())).json()
    await client.post(f"/api/documents/{doc['id']}/versions", content=files.pdf(2))
    assert (await client.delete(f"/api/documents/{doc['id']}")).status_code == 403
    assert (await client_for("adm").delete(f"/api/documents/{doc['id']}")).status_code == 204
    after = await counts(sessions)
    assert {k: after[k] for k in after if k != "changes"} == {
        k: before[k] for k in before if k != "changes"
    }
    assert (await client.get(f"/api/documents/{doc['id']}/content")).status_code == 404


# ---- the size limit, on a server of its own with a small one ----------------------------------

LIMIT = 3 * 1024 * 1024


@pytest.fixture(scope="module")
def small_server(settings: Settings, server: Server) -> Iterator[Server]:
    srv = start_server(
        settings, extra_env={"SITCEN_DOCUMENT_MAX_BYTES": str(LIMIT)}, name="documents-limit"
    )
    srv.tokens = server.tokens
    yield srv
    stop_server(srv)


async def test_a_file_over_the_limit_is_refused_and_its_chunks_are_gone(
    small_server: Server, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with httpx.AsyncClient(
        base_url=small_server.url, headers=auth(small_server, "op"), timeout=60
    ) as client:
        subject = await make_incident(client)
        before = await counts(sessions)
        # Streamed (no Content-Length): the server finds out after the first chunks are stored.
        r = await upload(client, subject, files.generated(LIMIT + 1))
        assert r.status_code == 413, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert str(LIMIT) in r.json()["detail"]
        assert await counts(sessions) == before
        # Announced: refused before a byte is read.
        r = await upload(client, subject, b"%PDF-1.7\n" + b"\0" * LIMIT)
        assert r.status_code == 413
        assert await counts(sessions) == before
        # At the limit exactly: taken.
        r = await upload(client, subject, files.generated(LIMIT))
        assert r.status_code == 201, r.text
        assert r.json()["properties"]["size"] == LIMIT


async def test_versions_uploaded_at_once_are_numbered_in_turn(client: httpx.AsyncClient) -> None:
    subject = await make_incident(client)
    doc = (await upload(client, subject, files.pdf())).json()
    answers = await asyncio.gather(
        *(
            client.post(f"/api/documents/{doc['id']}/versions", content=files.pdf(n))
            for n in (1, 2, 3)
        )
    )
    assert sorted(r.status_code for r in answers) == [201, 201, 201]
    now = (await client.get(f"/api/documents/{doc['id']}")).json()["properties"]
    assert (now["current_version"], now["version"]) == (4, 4)
    assert [v["version"] for v in now["versions"]] == [1, 2, 3, 4]
    for n in (1, 2, 3, 4):
        got = await client.get(f"/api/documents/{doc['id']}/content", params={"version": n})
        assert got.status_code == 200
        assert hashlib.sha256(got.content).hexdigest() == now["versions"][n - 1]["sha256"]


async def test_a_malformed_subject_id_is_refused_naming_it(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/documents",
        params={"subject_entity": "incident", "subject_id": "x", "filename": "a.pdf"},
        content=files.pdf(),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["query", "subject_id"]


async def test_an_object_with_documents_is_not_deleted_under_them(
    client: httpx.AsyncClient, client_for: Any
) -> None:
    adm = client_for("adm")
    subject = await make_incident(client)
    doc = (await upload(client, subject, files.pdf())).json()
    r = await adm.delete(f"/api/incidents/{subject['id']}")
    assert r.status_code == 409
    assert subject["properties"]["ref"] in r.json()["detail"]
    assert r.json()["attached"] == "documents"
    assert (await client.get(f"/api/incidents/{subject['id']}")).status_code == 200
    assert (await adm.delete(f"/api/documents/{doc['id']}")).status_code == 204
    assert (await adm.delete(f"/api/incidents/{subject['id']}")).status_code == 204


@pytest.mark.parametrize(
    "collection", [s.path for s in SPECS if s.entity != "document" and s.path in SAMPLES]
)
async def test_every_kind_of_object_takes_documents(
    client: httpx.AsyncClient, collection: str
) -> None:
    """Any registered kind with a sample: a kind added later is covered once registered."""
    activation = (await client.post("/api/activations", json=SAMPLES["activations"][0])).json()
    sample = linked(SAMPLES[collection][0], activation["id"])
    subject = (await client.post(f"/api/{collection}", json=sample)).json()
    r = await upload(client, subject, files.pdf())
    assert r.status_code == 201, r.text
    props = r.json()["properties"]
    assert (props["subject_entity"], props["subject_id"]) == (
        subject["properties"]["entity"],
        subject["id"],
    )
    listed = await client.get("/api/documents", params={"subject": subject["id"]})
    assert [f["id"] for f in listed.json()["features"]] == [r.json()["id"]]


async def test_an_upload_cut_off_by_its_client_leaves_nothing(
    server: Server, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    subject = await make_incident(client)
    before = await counts(sessions)
    url = urlsplit(server.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    query = f"subject_entity=incident&subject_id={subject['id']}&filename=cut.pdf"
    writer.write(
        (
            f"POST /api/documents?{query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Authorization: Bearer {server.tokens['op']}\r\n"
            "Content-Length: 20000000\r\n\r\n"
        ).encode()
    )
    async for piece in files.generated(5 * 1024 * 1024):  # five chunks of the twenty announced
        writer.write(piece)
        await writer.drain()
    writer.close()
    await writer.wait_closed()

    async def chunks_gone() -> bool:
        async with sessions() as session:
            busy = await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sitcen' "
                    "AND state LIKE 'idle in transaction%'"
                )
            )
        return not busy and await counts(sessions) == before

    # Its transaction, which held the chunks received, is rolled back, not left open.
    await eventually(chunks_gone, "the cut-off upload to be rolled back")
    del reader
