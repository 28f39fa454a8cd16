"""Objects made through the API for the exchange tests, each run under its own marker."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx

from tests.conftest import incident

A_ORG, B_ORG = "pz-5339", "pz-5340"
SQUARE = [[4.35, 50.84], [4.36, 50.84], [4.36, 50.85], [4.35, 50.85], [4.35, 50.84]]


def marker() -> str:
    return f"xchg-{uuid.uuid4().hex[:10]}"


async def create(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(f"/api/{path}", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def incidents(client: httpx.AsyncClient, mark: str) -> list[dict[str, Any]]:
    """Three incidents of the marker: one with an external id and a description, one whose
    title a spreadsheet would run as a formula, one shared with partner A only."""
    return [
        await create(
            client,
            "incidents",
            incident(
                f"{mark} Incendie rue Haute",
                description="Feu de cuisine, 2e étage; évacuation en cours",
                source="dispatch-test",
                external_id=f"{mark}-1",
                severity="severe",
                status="ongoing",
                place="Rue Haute 120",
                occurred_at="2026-12-07T08:15:00+01:00",
            ),
        ),
        await create(
            client,
            "incidents",
            incident(f"=cmd|' /C calc'!A0 {mark}", point=[4.3601, 50.8431], category="threat"),
        ),
        await create(
            client,
            "incidents",
            incident(
                f"{mark} Colis suspect",
                point=[4.3717, 50.8449],
                category="suspicious_package",
                visibility="internal",
                shared_with=[A_ORG],
            ),
        ),
    ]


async def head(client: httpx.AsyncClient) -> int:
    r = await client.get("/api/changes", params={"limit": 1})
    assert r.status_code == 200, r.text
    return int(r.json()["head"])


async def changed_since(client: httpx.AsyncClient, since: int, mark: str) -> list[str]:
    """The change records since `since` of objects whose title holds the marker (the feed's
    head alone would also count what background work writes meanwhile: a standard procedure's
    checklist started for a new incident)."""
    r = await client.get("/api/changes", params={"since": since, "limit": 5000})
    assert r.status_code == 200, r.text
    return [
        c["id"] for c in r.json()["changes"] if mark in (c["feature"]["properties"]["title"] or "")
    ]


async def export(client: httpx.AsyncClient, path: str, fmt: str, **params: Any) -> httpx.Response:
    r = await client.get(f"/api/exports/{path}", params={"format": fmt, **params})
    assert r.status_code == 200, r.text
    return r


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def csv_text(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


async def import_(
    client: httpx.AsyncClient,
    path: str,
    content: bytes | str,
    fmt: str,
    *,
    dry_run: bool = False,
    **params: Any,
) -> httpx.Response:
    media = "text/csv" if fmt == "csv" else "application/geo+json"
    return await client.post(
        f"/api/imports/{path}",
        params={"dry_run": str(dry_run).lower(), **params},
        content=content.encode() if isinstance(content, str) else content,
        headers={"Content-Type": media},
    )


# What the server gives an object, or keeps about its writing: not what a round trip compares.
SERVER_KEPT = {"ref", "version", "created_at", "created_by", "updated_at", "updated_by"}


def comparable(feature: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in feature["properties"].items() if k not in SERVER_KEPT}
    return {"geometry": feature["geometry"], "properties": props}
