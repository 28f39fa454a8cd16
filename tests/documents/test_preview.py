"""Previews: a bounded PNG of an image, or of a PDF's first page; none of other files."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import AuditEvent
from tests.documents import files
from tests.documents.conftest import make_incident, upload


async def _preview(client: httpx.AsyncClient, data: bytes, name: str) -> httpx.Response:
    subject = await make_incident(client)
    doc = (await upload(client, subject, data, filename=name)).json()
    return await client.get(f"/api/documents/{doc['id']}/preview")


def _image(r: httpx.Response) -> Image.Image:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(r.content))


async def test_an_image_preview_is_a_small_png_of_the_same_shape(client: httpx.AsyncClient) -> None:
    image = _image(await _preview(client, files.png(1200, 800), "plan.png"))
    assert image.size == (480, 320)
    assert image.getpixel((10, 10))[:3] == (200, 30, 30)


async def test_a_pdf_preview_is_its_first_page(client: httpx.AsyncClient) -> None:
    image = _image(await _preview(client, files.pdf(3), "plan.pdf"))
    width, height = image.size
    assert height == 480 and 335 <= width <= 345  # A4, portrait
    assert image.convert("RGB").getpixel((width // 2, height // 2)) == (255, 255, 255)


async def test_other_files_have_no_preview(client: httpx.AsyncClient) -> None:
    r = await _preview(client, files.docx(), "note.docx")
    assert r.status_code == 422
    assert r.json()["type"].endswith("/no-preview")


async def test_a_preview_is_audited(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    subject = await make_incident(client)
    doc: dict[str, Any] = (await upload(client, subject, files.jpeg(), filename="a.jpg")).json()
    assert (await client.get(f"/api/documents/{doc['id']}/preview")).status_code == 200
    async with sessions() as session:
        event = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.kind == "document_preview",
                AuditEvent.detail["document"].astext == doc["id"],
            )
        )
    assert event is not None and event.subject == "op" and event.detail["version"] == 1


async def test_a_damaged_pdf_or_image_has_no_preview_and_no_error(
    client: httpx.AsyncClient,
) -> None:
    broken_pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    r = await _preview(client, broken_pdf, "broken.pdf")
    assert r.status_code == 422 and r.json()["type"].endswith("/no-preview")
    truncated_png = files.png(200, 200)[:60]
    r = await _preview(client, truncated_png, "broken.png")
    assert r.status_code == 422 and r.json()["type"].endswith("/no-preview")


async def test_a_preview_the_browser_holds_is_not_made_again(client: httpx.AsyncClient) -> None:
    subject = await make_incident(client)
    doc = (await upload(client, subject, files.png(), filename="p.png")).json()
    first = await client.get(f"/api/documents/{doc['id']}/preview")
    tag = first.headers["etag"]
    assert doc["properties"]["sha256"] in tag
    again = await client.get(f"/api/documents/{doc['id']}/preview", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    # A new version is a new preview.
    await client.post(f"/api/documents/{doc['id']}/versions", content=files.png(300, 300))
    newer = await client.get(f"/api/documents/{doc['id']}/preview", headers={"If-None-Match": tag})
    assert newer.status_code == 200 and newer.headers["etag"] != tag


def test_a_damaged_image_has_no_preview_once_the_pdf_renderer_is_loaded() -> None:
    """WeasyPrint (the fiche's PDF) tells Pillow, process-wide, to decode truncated files: the
    server's previews must not depend on whether a fiche was printed since it started."""
    import weasyprint  # noqa: F401  (imported for what it does to Pillow)
    from PIL import ImageFile

    from app.documents import preview
    from app.errors import ProblemError

    assert ImageFile.LOAD_TRUNCATED_IMAGES
    with pytest.raises(ProblemError):
        preview.render(files.png(200, 200)[:60], "image/png", 256)
