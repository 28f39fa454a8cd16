"""Helpers of the document tests: objects to attach to, uploads, and the tables' counts (to show
that a refused upload wrote nothing)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import incident


async def make_incident(client: httpx.AsyncClient, **props: Any) -> dict[str, Any]:
    r = await client.post("/api/incidents", json=incident("Incendie, document", **props))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def upload(
    client: httpx.AsyncClient,
    subject: dict[str, Any],
    content: Any,
    filename: str = "rapport.pdf",
    **params: Any,
) -> httpx.Response:
    entity = subject["properties"]["entity"]
    query = {"subject_entity": entity, "subject_id": subject["id"], "filename": filename}
    query.update({k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()})
    return await client.post("/api/documents", params=query, content=content)


async def counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Rows of every table an upload writes, and the change records."""
    async with sessions() as session:
        found = {}
        for table in ("documents", "document_contents", "document_blobs", "document_chunks"):
            found[table] = int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
        found["changes"] = int(await session.scalar(text("SELECT count(*) FROM changes")) or 0)
        return found
