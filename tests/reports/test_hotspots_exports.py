"""A hotspot fiche and the comparison taken away: a PDF that holds the hotspot's figures, in
each language; CSV that a spreadsheet reads as text, never as a formula."""

from __future__ import annotations

import csv
import io

import httpx
from pypdf import PdfReader

from tests.reports.hotspot_helpers import hotspot, incident, measure, note

PERIOD = {"from": "2025-03-03", "to": "2025-03-30"}
INJECTION = "=cmd|' /C calc'!A0"


def _text(pdf: bytes) -> str:
    return " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )


async def test_the_fiche_pdf_holds_the_hotspots_figures_in_each_language(
    client: httpx.AsyncClient,
) -> None:
    zone, where = await hotspot(client, title="Hotspot Clemenceau (test PDF)")
    for day in ("2025-03-04", "2025-03-05", "2025-03-06", "2025-03-19"):
        await incident(client, where, f"{day}T21:00:00+01:00")
    await measure(client, zone["id"], reference="AB-2025-117", authority="Bourgmestre d'Anderlecht")
    await note(client, zone["id"], author="Cheffe de la task force", title="Évaluation de mars")
    words = {
        "fr": ("Fiche hotspot", "Cette période 3", "Mesures de police", "Expire bientôt"),
        "nl": ("Hotspotfiche", "Deze periode 3", "Politiemaatregelen", "Loopt binnenkort af"),
        "en": ("Hotspot fiche", "This period 3", "Police measures", "Expiring soon"),
    }
    for lang, expected in words.items():
        r = await client.get(
            f"/api/hotspots/{zone['id']}/export.pdf",
            params={
                "from": "2025-03-03",
                "to": "2025-03-16",
                "at": "2025-06-15T12:00:00+02:00",
                "lang": lang,
            },
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        assert r.content.startswith(b"%PDF-")
        text = _text(r.content)
        for part in (
            *expected,
            zone["properties"]["ref"],
            "Hotspot Clemenceau (test PDF)",
            "AB-2025-117",
        ):
            assert part in text, (lang, part, text[:2000])
        assert "Cheffe de la task force" in text


async def test_the_comparison_pdf_lists_the_hotspots(client: httpx.AsyncClient) -> None:
    zone, where = await hotspot(client, title="Hotspot Bockstael (test PDF)")
    await incident(client, where, "2025-03-12T10:00:00+01:00")
    r = await client.get("/api/hotspots/export.pdf", params={**PERIOD, "lang": "nl"})
    assert r.status_code == 200, r.text
    text = _text(r.content)
    assert "Vergelijking van de hotspots" in text
    assert "Hotspot Bockstael (test PDF)" in text and zone["properties"]["ref"] in text


async def test_csv_parses_and_a_formula_like_title_stays_text(client: httpx.AsyncClient) -> None:
    zone, where = await hotspot(client, title=INJECTION)
    await incident(client, where, "2025-03-04T10:00:00+01:00")
    await incident(client, where, "2025-03-18T10:00:00+01:00")
    await measure(client, zone["id"], title="@SUM(1+1)", reference="-2+3")

    r = await client.get("/api/hotspots/export.csv", params={**PERIOD, "lang": "en"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    (row,) = [x for x in rows if x["ref"] == zone["properties"]["ref"]]
    assert row["title"] == "'" + INJECTION
    assert (row["incidents"], row["previous"], row["trend"]) == ("2", "0", "Rising")
    assert [row[w] for w in ("2025-03-03", "2025-03-10", "2025-03-17", "2025-03-24")] == [
        "1",
        "0",
        "1",
        "0",
    ]
    assert row["measures_in_force"] in ("0", "1")  # as at now

    r = await client.get(f"/api/hotspots/{zone['id']}/export.csv", params={**PERIOD, "lang": "fr"})
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows[0]["section"] == "hotspot" and rows[0]["title"] == "'" + INJECTION
    assert rows[0]["count"] == "2"
    weeks = [(x["start"], x["count"]) for x in rows if x["section"] == "week"]
    assert weeks == [
        ("2025-03-03", "1"),
        ("2025-03-10", "0"),
        ("2025-03-17", "1"),
        ("2025-03-24", "0"),
    ]
    (m,) = [x for x in rows if x["section"] == "measure"]
    assert m["title"] == "'@SUM(1+1)"
    assert "-2+3" in m["detail"]
    for x in rows:
        for cell in x.values():
            assert not cell.startswith(("=", "+", "-", "@")), x
