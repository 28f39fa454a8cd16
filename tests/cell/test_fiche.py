"""The operational fiche: entries naming organisations, zones and positions that exist, versions
and approval (a changed approved fiche is a draft again), printing in the reader's language as
HTML and PDF, and sharing with one partner but never another."""

from __future__ import annotations

import copy
import io
import uuid
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.cell.fiches import draft_fiche
from app.db import transaction
from app.domain.actor import Actor
from app.errors import ProblemError
from tests.conftest import written_since
from tests.samples import PALAIS_ROYAL, SAMPLES, WINDOW, feature, point, square

A_ORG, B_ORG = "pz-5339", "pz-5340"


async def _created(r: Any) -> dict[str, Any]:
    response = await r
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _visit(op: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A papal visit, its red zone (internal) and its cell's D3 position."""
    event = await _created(
        op.post(
            "/api/events",
            json=feature(
                point(*PALAIS_ROYAL), title="Visite papale", kind="official_visit", **WINDOW
            ),
        )
    )
    zone = await _created(
        op.post(
            "/api/zones",
            json=feature(
                square(*PALAIS_ROYAL),
                title="Zone rouge Palais royal",
                kind="red_zone",
                parent_entity="planned_event",
                parent_id=event["id"],
            ),
        )
    )
    cell = await _created(op.post("/api/activations", json=SAMPLES["activations"][0]))
    position = await _created(
        op.post(
            "/api/positions",
            json=feature(None, title="D3", activation_id=cell["id"], role="d3", holder_user="op"),
        )
    )
    return event, zone, position


def _fiche(event: dict[str, Any], zone: dict[str, Any], position: dict[str, Any]) -> dict[str, Any]:
    return feature(
        None,
        title="Visite papale — fiche opérationnelle",
        subject_entity="planned_event",
        subject_id=event["id"],
        entries=[
            {
                "organisation": A_ORG,
                "discipline": "d3",
                "role": "Sécurisation du parcours papal",
                "responsibilities": "Périmètre du Palais royal, escortes, fermetures de voiries",
                "phone": "+32 2 279 79 79",
                "radio_talkgroup": "ASTRID PZ5339-OPS",
                "position_id": position["id"],
                "zone_ids": [zone["id"]],
                "from": "2026-09-26T08:00:00Z",
                "to": "2026-09-26T16:00:00Z",
            },
            {
                "organisation": "siamu-dbdmh",
                "discipline": "d1",
                "role": "Secours et postes médicaux avancés",
                "responsibilities": "Deux PMA, ambulances en réserve",
            },
        ],
    )


async def test_a_fiche_is_drafted_approved_and_a_draft_again_once_changed(
    client_for: Any,
) -> None:
    op, coord = client_for("op"), client_for("coord")
    event, zone, position = await _visit(op)
    fiche = await _created(op.post("/api/fiches", json=_fiche(event, zone, position)))
    props = fiche["properties"]
    assert props["ref"].startswith("FIC-") and props["status"] == "draft"
    assert props["approved_by"] is None and props["language"] == "fr"
    entry = props["entries"][0]
    assert entry["zone_ids"] == [zone["id"]] and entry["position_id"] == position["id"]
    assert entry["from"] == "2026-09-26T08:00:00+00:00"
    url = f"/api/fiches/{fiche['id']}"

    assert (await op.post(f"{url}/approve")).status_code == 403  # the cell's lead approves
    stale = await coord.post(f"{url}/approve", headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    approved = await coord.post(f"{url}/approve", headers={"If-Match": '"1"'})
    assert approved.status_code == 200, approved.text
    props = approved.json()["properties"]
    assert props["status"] == "approved" and props["approved_by"] == "coord"
    assert props["approved_at"] and props["version"] == 2
    again = await coord.post(f"{url}/approve")
    assert again.status_code == 409 and "already approved by coord" in again.json()["detail"]

    shared = await op.patch(
        url,
        json={"type": "Feature", "properties": {"shared_with": [A_ORG]}},
        headers={"If-Match": '"2"'},
    )
    assert shared.json()["properties"]["status"] == "approved"  # sharing is not changing it
    entries = copy.deepcopy(props["entries"])
    entries[0]["from"] = "2026-09-26T10:00:00+02:00"  # the same instant, written otherwise
    same = await op.patch(
        url,
        json={"type": "Feature", "properties": {"entries": entries}},
        headers={"If-Match": '"3"'},
    )
    assert same.status_code == 200, same.text
    assert same.json()["properties"]["version"] == 3  # nothing changed: still approved
    entries[1]["phone"] = "112"
    changed = await op.patch(
        url,
        json={"type": "Feature", "properties": {"entries": entries}},
        headers={"If-Match": '"3"'},
    )
    assert changed.status_code == 200, changed.text
    props = changed.json()["properties"]
    assert props["status"] == "draft" and props["approved_by"] is None and props["version"] == 4

    history = (await op.get(f"{url}/history")).json()["changes"]
    assert [(c["version"], c["by"], c["feature"]["properties"]["status"]) for c in history] == [
        (1, "op", "draft"),
        (2, "coord", "approved"),
        (3, "op", "approved"),
        (4, "op", "draft"),
    ]


async def test_entries_must_name_what_exists_and_nothing_is_written_otherwise(
    client: httpx.AsyncClient,
) -> None:
    event, zone, position = await _visit(client)
    good = _fiche(event, zone, position)
    cases = [
        (
            {"organisation": "no-such-partner"},
            ["entries", 0, "organisation"],
            "unknown organisation",
        ),
        ({"zone_ids": [str(uuid.uuid4())]}, ["entries", 0, "zone_ids"], "no zone"),
        ({"position_id": str(uuid.uuid4())}, ["entries", 0, "position_id"], "no position"),
        ({"to": "2026-09-26T07:00:00Z"}, ["entries.0.to"], "after from"),
        ({"discipline": "d9"}, ["entries", 0, "discipline"], "d1"),
        ({"phone": "call me"}, ["entries", 0, "phone"], "pattern"),
        ({"colour": "red"}, ["entries", 0, "colour"], "unknown field"),
    ]
    head = (await client.get("/api/fiches", params={"limit": 1})).json()["head"]
    for change, loc, words in cases:
        body = copy.deepcopy(good)
        body["properties"]["entries"][0].update(change)
        r = await client.post("/api/fiches", json=body)
        assert r.status_code == 422, (change, r.text)
        (error,) = r.json()["errors"]
        assert error["loc"][2:] == loc or error["loc"][-1] == loc[-1], (error, loc)
        assert words in r.text
    lonely = feature(None, title="Fiche sans objet", entries=[])
    r = await client.post("/api/fiches", json=lonely)
    assert r.status_code == 422 and "planned event or an activation" in r.text
    assert await written_since(client, head) == []


async def test_the_fiche_prints_in_french_and_dutch_with_brussels_times(client_for: Any) -> None:
    op = client_for("op")
    event, zone, position = await _visit(op)
    fiche = await _created(op.post("/api/fiches", json=_fiche(event, zone, position)))
    url = f"/api/fiches/{fiche['id']}"

    fr = await op.get(f"{url}/print", params={"lang": "fr"})
    assert fr.status_code == 200 and fr.headers["content-type"].startswith("text/html")
    html = fr.text
    assert '<html lang="fr">' in html and "@page" in html
    assert "Fiche opérationnelle" in html and "Responsabilités" in html
    assert "Zone de police Bruxelles-Capitale/Ixelles" in html
    assert "Sécurisation du parcours papal" in html
    assert "26/09/2026 10:00" in html and "26/09/2026 18:00" in html  # 08:00Z in Brussels
    assert f"{zone['properties']['ref']} Zone rouge Palais royal" in html
    assert "Projet : pas encore approuvée" in html and "Visite papale" in html

    nl = await op.get(f"{url}/print", headers={"Accept-Language": "nl-BE,nl;q=0.9"})
    assert '<html lang="nl">' in nl.text and "Operationele fiche" in nl.text
    assert "Politiezone Brussel-Hoofdstad/Elsene" in nl.text
    assert "Verantwoordelijkheden" in nl.text and "Ontwerp: nog niet goedgekeurd" in nl.text

    script = copy.deepcopy(_fiche(event, zone, position))
    script["properties"]["entries"][1]["role"] = "<script>alert(1)</script>"
    escaped = await _created(op.post("/api/fiches", json=script))
    printed = (await op.get(f"/api/fiches/{escaped['id']}/print")).text
    assert "<script>" not in printed and "&lt;script&gt;" in printed


async def test_the_pdf_is_a_real_pdf_with_the_entities_in_it(client_for: Any) -> None:
    op = client_for("op")
    event, zone, position = await _visit(op)
    fiche = await _created(op.post("/api/fiches", json=_fiche(event, zone, position)))
    r = await op.get(f"/api/fiches/{fiche['id']}/pdf", params={"lang": "nl"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF-")
    assert f"{fiche['properties']['ref']}-nl.pdf" in r.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(r.content))
    words = " ".join((page.extract_text() or "") for page in reader.pages)
    words = "".join(words.split())  # a narrow column breaks lines anywhere
    assert "Operationelefiche" in words
    assert "PolitiezoneBrussel-Hoofdstad/Elsene" in words
    assert "DBDMH" in words and "ASTRIDPZ5339-OPS" in words


async def test_a_partner_sees_a_fiche_shared_with_it_and_never_another_partners(
    client_for: Any,
) -> None:
    op, part, part_b = client_for("op"), client_for("part"), client_for("part-b")
    event, zone, position = await _visit(op)
    body = _fiche(event, zone, position)
    body["properties"]["shared_with"] = [A_ORG]
    fiche = await _created(op.post("/api/fiches", json=body))
    url = f"/api/fiches/{fiche['id']}"
    unknown = f"/api/fiches/{uuid.uuid4()}"

    assert (await part.get(url)).status_code == 200
    printed = (await part.get(f"{url}/print")).text
    # The zone, the position and the event are SITCEN's own: the partner's print does not name
    # them.
    assert "Zone rouge Palais royal" not in printed and event["properties"]["ref"] not in printed
    assert zone["properties"]["ref"] not in printed
    assert printed.count("non partagé avec vous") == 3
    assert (await part.post(f"{url}/approve")).status_code == 403

    for suffix in ("", "/print", "/pdf", "/history"):
        hidden = await part_b.get(url + suffix)
        missing = await part_b.get(unknown + suffix)
        assert hidden.status_code == 404, suffix
        assert hidden.text.replace(fiche["id"], "<id>") == missing.text.replace(
            unknown.rsplit("/", 1)[-1], "<id>"
        )
    listed = (await part_b.get("/api/fiches", params={"limit": 1000})).json()["features"]
    assert fiche["id"] not in [f["id"] for f in listed]


async def test_activation_templates_draft_a_fiche_through_the_service(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    cell = await _created(client.post("/api/activations", json=SAMPLES["activations"][0]))
    entries = [
        {
            "organisation": "stib-mivb",
            "role": "Transports publics",
            "responsibilities": "Déviations des lignes 92 et 93",
            "radio_talkgroup": "STIB-OPS",
        }
    ]
    async with transaction(sessions) as session:
        written = await draft_fiche(
            session,
            Actor("coord", "user", role="coordinator"),
            entries,
            activation_id=uuid.UUID(cell["id"]),
        )
    r = await client.get("/api/fiches", params={"activation": cell["id"]})
    (fiche,) = r.json()["features"]
    assert fiche["id"] == str(written.id)
    assert fiche["properties"]["status"] == "draft" and fiche["properties"]["created_by"] == "coord"
    assert fiche["properties"]["entries"][0]["organisation"] == "stib-mivb"

    with pytest.raises(ProblemError) as refused:
        async with transaction(sessions) as session:
            await draft_fiche(
                session,
                Actor("coord", "user"),
                [{**entries[0], "discipline": "d7"}],
                activation_id=uuid.UUID(cell["id"]),
            )
    assert refused.value.status == 422 and "discipline" in str(refused.value.errors)
    r = await client.get("/api/fiches", params={"activation": cell["id"]})
    assert len(r.json()["features"]) == 1
