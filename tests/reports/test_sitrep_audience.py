"""A SITREP read by a partner holds only what that partner may see: what is shared with it by
name or with every partner, never an internal object, a decision kept internal, or another
partner's object or task; in its JSON, HTML, map and PDF alike. Two partners, `part`
(pz-5339) and `part-b` (pz-5340), each hold a seat in the cell."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.reports.conftest import (
    A_ORG,
    B_ORG,
    BOURSE,
    FLAGEY,
    SCHAERBEEK,
    created,
    incident,
    make_cell,
    marker,
    pdf_text,
    sitrep,
    zone,
)


async def _world(op: httpx.AsyncClient, off: httpx.AsyncClient, m: str) -> dict[str, Any]:
    """The cell and its picture: per audience (alpha: A's, bravo: B's, internal, everyone),
    an incident, a zone, a decision and a task."""
    cell = await make_cell(op)
    made: dict[str, list[dict[str, Any]]] = {}
    audiences = {
        "alpha": {"shared_with": [A_ORG]},
        "bravo": {"shared_with": [B_ORG]},
        "interne": {},
        "public": {"visibility": "shared"},
    }
    places = {"alpha": BOURSE, "bravo": SCHAERBEEK, "interne": FLAGEY, "public": BOURSE}
    for who, audience in audiences.items():
        word = f"{m}{who}"
        made[who] = [
            await incident(op, f"{word} incident", places[who], "severe", **audience),
            await zone(op, f"{word} zone", places[who], **audience),
            await created(
                op.post(
                    "/api/decisions",
                    json={
                        "type": "Feature",
                        "geometry": None,
                        "properties": {
                            "title": f"{word} décision",
                            "activation_id": cell.id,
                            "decided_by_name": "Haut fonctionnaire",
                            **audience,
                        },
                    },
                )
            ),
        ]
    for who, org in (("alpha", A_ORG), ("bravo", B_ORG)):
        task = {"title": f"{m}{who} tâche", "activation_id": cell.id, "owner_organisation": org}
        made[who].append(
            await created(
                op.post(
                    "/api/tasks", json={"type": "Feature", "geometry": None, "properties": task}
                )
            )
        )
    made["interne"].append(
        await created(
            op.post(
                "/api/tasks",
                json={
                    "type": "Feature",
                    "geometry": None,
                    "properties": {"title": f"{m}interne tâche", "activation_id": cell.id},
                },
            )
        )
    )
    report = await sitrep(op, activation_id=cell.id, summary="Synthèse pour les partenaires")
    assert sorted(report["properties"]["shared_with"]) == sorted([A_ORG, B_ORG])
    approved = await off.post(f"/api/sitreps/{report['id']}/approve")
    assert approved.status_code == 200, approved.text
    return {"cell": cell, "made": made, "sitrep": report}


def _words(made: dict[str, list[dict[str, Any]]], who: str) -> list[str]:
    """What marks the objects of one audience in a text: their titles' word, refs and ids."""
    return [
        word
        for obj in made[who]
        for word in (obj["properties"]["ref"], obj["id"], obj["properties"]["title"])
    ]


async def test_each_partner_reads_only_its_own_and_what_all_partners_share(
    client_for: Any,
) -> None:
    op, off = client_for("op"), client_for("off")
    m = marker()
    world = await _world(op, off, m)
    made, sid = world["made"], world["sitrep"]["id"]

    staff = (await op.get(f"/api/sitreps/{sid}/content")).json()
    for who in made:
        for word in _words(made, who):
            assert word in str(staff), (who, word)  # SITCEN's full version holds everything

    for user, own, other in (("part", "alpha", "bravo"), ("part-b", "bravo", "alpha")):
        partner = client_for(user)
        view = await partner.get(f"/api/sitreps/{sid}/content")
        assert view.status_code == 200, view.text
        html = await partner.get(f"/api/sitreps/{sid}/html", params={"lang": "en"})
        svg = await partner.get(f"/api/sitreps/{sid}/map")
        pdf = await partner.get(f"/api/sitreps/{sid}/pdf", params={"lang": "fr"})
        assert html.status_code == svg.status_code == pdf.status_code == 200
        texts = {
            "json": view.text,
            "html": html.text,
            "svg": svg.text,
            "pdf": pdf_text(pdf.content),
        }
        for kind, text in texts.items():
            for word in _words(made, other) + _words(made, "interne"):
                # The PDF's text wraps long titles: its words are checked by ref.
                if kind in ("pdf", "svg") and word.startswith(m):
                    continue
                if kind == "svg" and not word.startswith(("INC-", "ZON-")):
                    continue
                assert word not in text, (user, kind, word)
        picture = view.json()["picture"]
        listed = {
            i["id"] for key in ("incidents", "zones", "decisions", "tasks") for i in picture[key]
        }
        for obj in made[own][:3] + made["public"][:3]:
            assert obj["id"] in listed, (user, obj["properties"]["title"])
            assert obj["properties"]["ref"] in html.text
            assert obj["properties"]["ref"] in texts["pdf"]
        assert made[own][3]["id"] in listed  # its own task
        # What changed is told of its own objects only.
        changed = {c["id"] for c in picture["changes"]}
        assert {o["id"] for o in made[own]} <= changed
        assert not changed & {o["id"] for o in made[other] + made["interne"]}
        assert view.json()["for_organisation"] == (A_ORG if user == "part" else B_ORG)
        assert "changes_total" not in picture  # how much SITCEN left out is not its business
        assert "Synthèse pour les partenaires" in html.text


async def test_a_sitrep_shared_with_one_partner_is_unknown_to_the_other(client_for: Any) -> None:
    op = client_for("op")
    cell = await make_cell(op)
    only_a = await sitrep(op, activation_id=cell.id, shared_with=[A_ORG])
    internal = await sitrep(op, activation_id=cell.id, shared_with=[])
    b = client_for("part-b")
    for report in (only_a, internal):
        for path in ("", "/content", "/html", "/pdf", "/map", "/sent"):
            hidden = await b.get(f"/api/sitreps/{report['id']}{path}")
            unknown_id = str(uuid.uuid4())
            unknown = await b.get(f"/api/sitreps/{unknown_id}{path}")
            assert hidden.status_code == unknown.status_code == 404, (path, hidden.text)
            assert hidden.text.replace(report["id"], "<id>") == unknown.text.replace(
                unknown_id, "<id>"
            )
    assert (await client_for("part").get(f"/api/sitreps/{only_a['id']}/content")).status_code == 200
    listed = (await b.get("/api/sitreps", params={"limit": 1000})).json()["features"]
    assert not {f["id"] for f in listed} & {only_a["id"], internal["id"]}
