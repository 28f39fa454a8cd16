"""SITREP test helpers: a crisis cell with two partners' seats, objects of the picture shared
with one partner, the other or nobody, and the PDF's text read back. Alerting's harness (an SMTP
inbox, partner organisations made per test) is imported, with the settings it gives every
server of the session."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
from pypdf import PdfReader

from tests.alerts.conftest import inbox, make_partner
from tests.cell.helpers import A_ORG, B_ORG, Cell, make_cell
from tests.samples import feature, point, square

__all__ = ["A_ORG", "B_ORG", "Cell", "inbox", "make_cell", "make_partner"]

BOURSE = (4.3499, 50.8481)  # Brussels
FLAGEY = (4.3720, 50.8275)  # Ixelles
SCHAERBEEK = (4.3780, 50.8676)


def marker() -> str:
    return f"m{uuid.uuid4().hex[:8]}"


async def created(r: Any) -> dict[str, Any]:
    response = await r
    assert response.status_code == 201, response.text
    return dict(response.json())


async def incident(
    client: httpx.AsyncClient, title: str, where: tuple[float, float], severity: str, **props: Any
) -> dict[str, Any]:
    body = feature(point(*where), title=title, category="public_order", severity=severity, **props)
    return await created(client.post("/api/incidents", json=body))


async def zone(
    client: httpx.AsyncClient, title: str, where: tuple[float, float], **props: Any
) -> dict[str, Any]:
    body = feature(square(*where), title=title, kind=props.pop("kind", "red_zone"), **props)
    return await created(client.post("/api/zones", json=body))


async def sitrep(client: httpx.AsyncClient, **props: Any) -> dict[str, Any]:
    return await created(client.post("/api/sitreps", json=feature(None, **props)))


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-"), data[:20]
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)
