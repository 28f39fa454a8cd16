"""The SITREP: numbered per activation and in the watch's daily series, generated from the
picture at a chosen time with what changed since the previous one, edited while a draft,
approved (who, when) and then frozen; printed as a valid PDF holding the figures in FR, NL and
EN; bad input refused with problem+json and nothing written."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.reports.sitrep import MAX_ITEMS
from tests.reports.conftest import (
    BOURSE,
    FLAGEY,
    created,
    incident,
    make_cell,
    marker,
    pdf_text,
    sitrep,
    zone,
)

# The words of the key figures, as the PDF prints them.
OPEN = {"fr": "Incidents ouverts", "nl": "Open incidenten", "en": "Open incidents"}
SEVERE = {"fr": "Grave", "nl": "Ernstig", "en": "Severe"}
ZONES = {
    "fr": "Zones et périmètres actifs",
    "nl": "Actieve zones en perimeters",
    "en": "Active zones and perimeters",
}
CHANGES = {"fr": "Changements", "nl": "Wijzigingen", "en": "Changes"}


async def head(client: httpx.AsyncClient) -> int:
    return int((await client.get("/api/changes", params={"limit": 1})).json()["head"])


async def content(client: httpx.AsyncClient, sitrep_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/sitreps/{sitrep_id}/content")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_sitreps_are_numbered_per_activation_and_tell_what_changed_since_the_last(
    client_for: Any,
) -> None:
    op = client_for("op")
    cell, other = await make_cell(op), await make_cell(op)
    first = await sitrep(op, activation_id=cell.id, summary="Situation calme")
    props = first["properties"]
    assert props["number"] == 1 and props["status"] == "draft" and props["ref"].startswith("SIT-")
    activation = (await op.get(f"/api/activations/{cell.id}")).json()["properties"]
    assert props["title"] == f"SITREP n° 1 — {activation['ref']}"
    assert props["previous_id"] is None
    assert (await sitrep(op, activation_id=other.id))["properties"]["number"] == 1

    m = marker()
    fire = await incident(op, f"{m} émeute Bourse", BOURSE, "severe")
    red = await zone(op, f"{m} zone rouge", FLAGEY)
    task = await created(
        op.post(
            "/api/tasks",
            json={
                "type": "Feature",
                "geometry": None,
                "properties": {
                    "title": f"{m} dévier les bus",
                    "activation_id": cell.id,
                    "due_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
                },
            },
        )
    )
    second = await sitrep(op, activation_id=cell.id)
    props = second["properties"]
    assert props["number"] == 2 and props["previous_id"] == first["id"]
    assert props["since_at"] == first["properties"]["picture_at"]

    view = await content(op, second["id"])
    changed = {(c["ref"], c["op"]) for c in view["picture"]["changes"]}
    for obj in (fire, red, task):
        assert (obj["properties"]["ref"], "created") in changed
    # The other activation's cell is not this one's news; the first SITREP is not either.
    refs = {c["ref"] for c in view["picture"]["changes"]}
    assert first["properties"]["ref"] not in refs
    assert fire["id"] in {i["id"] for i in view["picture"]["incidents"]}
    assert red["id"] in {z["id"] for z in view["picture"]["zones"]}
    (listed,) = [t for t in view["picture"]["tasks"] if t["id"] == task["id"]]
    assert task["id"] in view["figures"]["overdue"] and view["figures"]["overdue_tasks"] >= 1
    assert listed["title"] == f"{m} dévier les bus"

    # What changed after the second SITREP's time is not in it: its picture is as it stood.
    resolved = await op.patch(
        f"/api/incidents/{fire['id']}",
        json={"type": "Feature", "properties": {"status": "resolved"}},
        headers={"If-Match": '"1"'},
    )
    assert resolved.status_code == 200, resolved.text
    again = await content(op, second["id"])
    assert fire["id"] in {i["id"] for i in again["picture"]["incidents"]}
    third = await content(op, (await sitrep(op, activation_id=cell.id))["id"])
    assert fire["id"] not in {i["id"] for i in third["picture"]["incidents"]}
    assert (fire["properties"]["ref"], "updated") in {
        (c["ref"], c["op"]) for c in third["picture"]["changes"]
    }
    assert third["sitrep"]["properties"]["number"] == 3


async def test_the_daily_series_counts_on_outside_activations(client_for: Any) -> None:
    op = client_for("op")
    one = await sitrep(op)
    two = await sitrep(op)
    year = datetime.now(UTC).astimezone().year
    assert one["properties"]["series"].startswith("daily-")
    assert two["properties"]["number"] == one["properties"]["number"] + 1
    assert two["properties"]["previous_id"] == one["id"]
    assert "quotidien" in two["properties"]["title"] and str(year) in two["properties"]["series"]


async def test_the_pdf_holds_the_figures_in_french_dutch_and_english(client_for: Any) -> None:
    op = client_for("op")
    cell = await make_cell(op)
    before = (await content(op, (await sitrep(op, activation_id=cell.id))["id"]))["figures"]
    m = marker()
    made = [
        await incident(op, f"{m} bagarre Bourse", BOURSE, "severe"),
        await incident(op, f"{m} rixe Bourse", BOURSE, "severe"),
        await incident(op, f"{m} tapage Flagey", FLAGEY, "minor"),
    ]
    await zone(op, f"{m} périmètre Flagey", FLAGEY, kind="security_perimeter")
    report = await sitrep(
        op, activation_id=cell.id, summary=f"{m}: trois incidents", next_steps="Point à 18h"
    )
    view = await content(op, report["id"])
    figures = view["figures"]
    if "incidents" in view["picture"]["truncated"]:
        # The session's database holds more open incidents than a SITREP takes (MAX_ITEMS):
        # it keeps the newest, these among them, and says its figures are "at least".
        listed = {i["id"] for i in view["picture"]["incidents"]}
        assert {i["id"] for i in made} <= listed and figures["open_incidents"] == MAX_ITEMS
    else:
        assert figures["open_incidents"] == before["open_incidents"] + 3
        assert figures["by_severity"]["severe"] == before["by_severity"]["severe"] + 2
        assert figures["by_severity"]["minor"] == before["by_severity"]["minor"] + 1
    assert figures["active_zones"] == before["active_zones"] + 1
    bxl = {m_["code"]: m_ for m_ in figures["by_municipality"]}
    assert sum(row["total"] for row in bxl.values()) == figures["open_incidents"]

    for lang in ("fr", "nl", "en"):
        r = await op.get(f"/api/sitreps/{report['id']}/pdf", params={"lang": lang})
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        # Compared without white space or NULs: pypdf reads some runs of a long document's text
        # (two-byte font encodings) with a NUL or a space between letters.
        text = "".join(pdf_text(r.content).replace("\x00", "").split())

        def shown(words: str, text: str = text) -> bool:
            return "".join(words.split()) in text

        cut = "+" if "incidents" in view["picture"]["truncated"] else ""
        assert shown(f"{OPEN[lang]}: {figures['open_incidents']}{cut}"), text[:2000]
        assert shown(f"{SEVERE[lang]}: {figures['by_severity']['severe']}")
        assert shown(f"{ZONES[lang]}: {figures['active_zones']}")
        assert shown(f"{CHANGES[lang]}: {figures['changes']}")
        assert shown(report["properties"]["ref"]) and shown(f"{m}: trois incidents")
        for obj in made:
            assert shown(obj["properties"]["ref"])

    html = await op.get(f"/api/sitreps/{report['id']}/html", params={"lang": "nl"})
    assert html.status_code == 200 and '<html lang="nl">' in html.text
    assert "<svg" in html.text and "@page" in html.text and "Kerncijfers" in html.text
    svg = await op.get(f"/api/sitreps/{report['id']}/map")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg") and 'class="municipality"' in svg.text
    for obj in made:  # each object drawn, named on hover
        assert f"<title>{obj['properties']['ref']}</title>" in svg.text


async def test_an_approved_sitrep_is_frozen(client_for: Any) -> None:
    op, coord, off = client_for("op"), client_for("coord"), client_for("off")
    cell = await make_cell(op)
    report = await sitrep(op, activation_id=cell.id)
    url = f"/api/sitreps/{report['id']}"
    edited = await op.patch(
        url,
        json={
            "type": "Feature",
            "properties": {"summary": "Deux foyers maîtrisés", "next_steps": "Relève à 19h"},
        },
        headers={"If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["properties"]["version"] == 2
    assert (await op.post(f"{url}/approve")).status_code == 403  # the cell's lead approves
    assert (await coord.post(f"{url}/approve", headers={"If-Match": '"1"'})).status_code == 412
    approved = await off.post(f"{url}/approve", headers={"If-Match": '"2"'})
    assert approved.status_code == 200, approved.text
    props = approved.json()["properties"]
    assert props["status"] == "approved" and props["approved_by"] == "off" and props["approved_at"]
    before = await head(op)

    refusals = [
        await op.patch(
            url,
            json={"type": "Feature", "properties": {"summary": "Réécrit"}},
            headers={"If-Match": '"3"'},
        ),
        await op.patch(
            url,
            json={"type": "Feature", "properties": {"shared_with": []}},
            headers={"If-Match": '"3"'},
        ),
        await coord.post(f"{url}/approve"),
        await client_for("adm").delete(url),
    ]
    for r in refusals:
        assert r.status_code == 409, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "frozen" in r.json()["detail"] and "off" in r.json()["detail"]
    assert await head(op) == before
    still = (await op.get(url)).json()["properties"]
    assert (still["summary"], still["version"]) == ("Deux foyers maîtrisés", 3)
    history = (await op.get(f"{url}/history")).json()["changes"]
    assert [(c["version"], c["by"]) for c in history] == [(1, "op"), (2, "op"), (3, "off")]

    # A draft made in error is deleted, picture and all; the series goes on without a gap.
    wrong = await sitrep(op, activation_id=cell.id)
    assert wrong["properties"]["number"] == 2
    assert (await op.delete(f"/api/sitreps/{wrong['id']}")).status_code == 403
    assert (await client_for("adm").delete(f"/api/sitreps/{wrong['id']}")).status_code == 204
    assert (await op.get(f"/api/sitreps/{wrong['id']}/content")).status_code == 404
    assert (await sitrep(op, activation_id=cell.id))["properties"]["number"] == 2


async def test_bad_input_is_refused_and_nothing_is_written(client_for: Any) -> None:
    op = client_for("op")
    cell = await make_cell(op)
    await sitrep(op, activation_id=cell.id)
    before = await head(op)
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    past = (datetime.now(UTC) - timedelta(days=3650)).isoformat()
    cases = [
        ({"activation_id": str(uuid.uuid4())}, "activation_id", "no activation"),
        ({"activation_id": "not-a-uuid"}, "activation_id", "UUID"),
        ({"activation_id": cell.id, "picture_at": future}, "picture_at", "future"),
        ({"activation_id": cell.id, "picture_at": "yesterday"}, "picture_at", "datetime"),
        ({"activation_id": cell.id, "picture_at": "2026-12-07T10:00:00"}, "picture_at", "timezone"),
        ({"activation_id": cell.id, "picture_at": past}, "picture_at", "opened"),
        ({"activation_id": cell.id, "shared_with": ["no-such-partner"]}, "shared_with", "unknown"),
        ({"activation_id": cell.id, "colour": "red"}, "colour", "xtra"),
    ]
    for props, where, words in cases:
        r = await op.post(
            "/api/sitreps", json={"type": "Feature", "geometry": None, "properties": props}
        )
        assert r.status_code == 422, (props, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert where in str(r.json()["errors"]), (props, r.text)
        assert words.lower() in r.text.lower(), (props, r.text)
    for path in ("content", "html", "pdf", "map", "sent"):
        r = await op.get(f"/api/sitreps/{uuid.uuid4()}/{path}")
        assert r.status_code == 404 and r.headers["content-type"].startswith(
            "application/problem+json"
        )
    r = await op.get(f"/api/sitreps/{uuid.uuid4()}/html", params={"lang": "de"})
    assert r.status_code == 422
    assert await head(op) == before
