"""An activation's logbooks: the multidisciplinary one and one per discipline (D1–D5). A
discipline's members (who hold its position in the activation) write in theirs; SITCEN's staff
read them all; the coordinator or the official promotes an entry into the multidisciplinary
logbook. Entries are never changed nor deleted: a correction is a new entry beside the one it
corrects."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain import objects
from app.domain.actor import Actor
from app.domain.logbook_entry import SPEC
from app.errors import ProblemError
from tests.cell.records import head, open_activation, props, seat
from tests.samples import feature


def entry(activation: str | None, title: str, **extra: Any) -> dict[str, Any]:
    return feature(None, title=title, activation_id=activation, **extra)


async def cell_with_d3_held_by_op(client_for: Any) -> str:
    """An activation whose D3 (police) seat the operator `op` holds."""
    coord = client_for("coord")
    activation = await open_activation(coord)
    await seat(coord, activation, "d3", holder="op")
    await seat(coord, activation, "d1", holder="off")
    return activation


async def logbook(client: httpx.AsyncClient, activation: str) -> list[dict[str, Any]]:
    r = await client.get("/api/logbook", params={"activation": activation, "limit": 1000})
    assert r.status_code == 200, r.text
    return [{"id": f["id"], **f["properties"]} for f in r.json()["features"]]


async def test_a_disciplines_members_write_in_its_logbook_and_staff_read_them_all(
    client_for: Any,
) -> None:
    activation = await cell_with_d3_held_by_op(client_for)
    op, coord, off = client_for("op"), client_for("coord"), client_for("off")
    d3 = props(
        await op.post("/api/logbook", json=entry(activation, "Bouclage rue Haute", discipline="d3"))
    )
    assert (d3["discipline"], d3["activation_id"], d3["created_by"]) == ("d3", activation, "op")
    d1 = props(
        await off.post("/api/logbook", json=entry(activation, "Deux autopompes", discipline="d1"))
    )
    multi = props(await coord.post("/api/logbook", json=entry(activation, "Point de situation")))
    assert multi["discipline"] is None
    for reader in (op, coord, off, client_for("adm")):
        assert {e["id"] for e in await logbook(reader, activation)} == {
            d3["id"],
            d1["id"],
            multi["id"],
        }


@pytest.mark.parametrize(
    ("who", "discipline"),
    [("coord", "d3"), ("op", "d1"), ("off", "d3"), ("adm", "d5")],
)
async def test_a_write_to_a_disciplines_logbook_by_someone_not_in_it_is_refused(
    client_for: Any, who: str, discipline: str
) -> None:
    activation = await cell_with_d3_held_by_op(client_for)
    caller = client_for(who)
    before = await head(caller)
    r = await caller.post(
        "/api/logbook", json=entry(activation, "Hors de ma discipline", discipline=discipline)
    )
    assert r.status_code == 403, r.text
    problem = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert problem["action"] == "logbook_entry:create"
    assert discipline.upper() in problem["detail"] and "position" in problem["detail"]
    assert await head(caller) == before
    assert await logbook(client_for("coord"), activation) == []


async def test_holding_a_disciplines_seat_in_another_activation_is_not_enough(
    client_for: Any,
) -> None:
    await cell_with_d3_held_by_op(client_for)
    other = await open_activation(client_for("coord"))
    r = await client_for("op").post("/api/logbook", json=entry(other, "Ailleurs", discipline="d3"))
    assert r.status_code == 403


async def test_a_disciplines_logbook_is_an_activations(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/logbook", json=entry(None, "Sans activation", discipline="d2"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "properties", "activation_id"]


async def test_a_note_on_an_activation_is_in_its_multidisciplinary_logbook(
    client: httpx.AsyncClient,
) -> None:
    activation = await open_activation(client)
    note = props(
        await client.post(
            "/api/logbook",
            json=feature(
                None, title="SITREP 1", subject_entity="activation", subject_id=activation
            ),
        )
    )
    assert note["activation_id"] == activation and note["discipline"] is None


@pytest.mark.parametrize("who", ["op", "coord", "off", "adm"])
async def test_nobody_changes_or_deletes_a_logbook_entry(client_for: Any, who: str) -> None:
    activation = await cell_with_d3_held_by_op(client_for)
    op = client_for("op")
    created = (
        await op.post("/api/logbook", json=entry(activation, "Bouclage", discipline="d3"))
    ).json()
    url = f"/api/logbook/{created['id']}"
    before = await head(op)
    caller = client_for(who)
    r = await caller.patch(
        url,
        json={"type": "Feature", "properties": {"title": "Autre chose"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
    assert (await caller.delete(url)).status_code == 405
    assert await head(op) == before
    assert (await op.get(url)).json() == created


async def test_the_write_path_refuses_to_rewrite_a_logbook_entry(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    created = (await client.post("/api/logbook", json=entry(None, "Appel reçu"))).json()
    oid = uuid.UUID(created["id"])
    admin = Actor("adm", "user", role="admin")
    patch = SPEC.update_schema.model_construct()
    async with sessions() as session:
        with pytest.raises(ProblemError) as refused:
            await objects.update(session, SPEC, oid, patch, None, 1, admin)
        assert refused.value.status == 409
        with pytest.raises(ProblemError) as refused:
            await objects.remove(session, SPEC, oid, 1, admin)
        assert refused.value.status == 409


async def test_a_correction_is_a_new_entry_beside_the_one_it_corrects(client_for: Any) -> None:
    activation = await cell_with_d3_held_by_op(client_for)
    op, coord = client_for("op"), client_for("coord")
    original = props(
        await op.post("/api/logbook", json=entry(activation, "Bouclage rue Haute", discipline="d3"))
    )
    correction = props(
        await op.post(
            "/api/logbook",
            json=entry(
                activation,
                "Bouclage rue Haute et rue Blaes",
                discipline="d3",
                corrects_id=original["id"],
            ),
        )
    )
    read = (await coord.get(f"/api/logbook/{original['id']}")).json()["properties"]
    assert read["corrected_by"] == [correction["id"]] and read["version"] == 1
    assert read["title"] == "Bouclage rue Haute"
    assert {e["id"] for e in await logbook(coord, activation)} == {
        original["id"],
        correction["id"],
    }
    # A correction is written in the logbook of what it corrects, by someone who may write there.
    r = await coord.post(
        "/api/logbook", json=entry(activation, "Correction", corrects_id=original["id"])
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "properties", "corrects_id"]
    r = await coord.post(
        "/api/logbook",
        json=entry(activation, "Correction", discipline="d3", corrects_id=original["id"]),
    )
    assert r.status_code == 403


async def test_the_coordinator_promotes_an_entry_into_the_multidisciplinary_logbook(
    client_for: Any,
) -> None:
    activation = await cell_with_d3_held_by_op(client_for)
    op, coord = client_for("op"), client_for("coord")
    source = props(
        await op.post(
            "/api/logbook",
            json=entry(
                activation,
                "Périmètre de 300 m établi",
                discipline="d3",
                kind="action",
                description="Rue Haute fermée entre la place de la Chapelle et la rue Blaes",
                occurred_at="2026-09-26T14:10:00+02:00",
            ),
        )
    )
    assert (await op.post(f"/api/logbook/{source['id']}/promote")).status_code == 403
    r = await coord.post(f"/api/logbook/{source['id']}/promote")
    copy = props(r)
    assert r.headers["location"] == f"/api/logbook/{r.json()['id']}"
    assert copy["discipline"] is None and copy["promoted_from_id"] == source["id"]
    assert copy["created_by"] == "coord" and copy["activation_id"] == activation
    for name in ("title", "description", "kind", "occurred_at"):
        assert copy[name] == source[name]
    # The discipline's entry stays where it was written.
    kept = (await coord.get(f"/api/logbook/{source['id']}")).json()["properties"]
    assert kept["version"] == 1 and kept["discipline"] == "d3"
    again = await client_for("off").post(f"/api/logbook/{source['id']}/promote")
    assert again.status_code == 409 and again.json()["promoted_as"] == copy["ref"]
    multi = await coord.post(f"/api/logbook/{r.json()['id']}/promote")
    assert multi.status_code == 422
    missing = await coord.post(f"/api/logbook/{uuid.uuid4()}/promote")
    assert missing.status_code == 404
    r = await coord.post(
        "/api/logbook", json=entry(activation, "Copie à la main", promoted_from_id=source["id"])
    )
    assert r.status_code == 422, "a copy is made by promoting, not by hand"


async def test_two_promotions_at_once_make_one_copy(client_for: Any) -> None:
    activation = await cell_with_d3_held_by_op(client_for)
    source = props(
        await client_for("op").post(
            "/api/logbook", json=entry(activation, "Renforts", discipline="d3")
        )
    )
    answers = await asyncio.gather(
        client_for("coord").post(f"/api/logbook/{source['id']}/promote"),
        client_for("off").post(f"/api/logbook/{source['id']}/promote"),
    )
    assert sorted(r.status_code for r in answers) == [201, 409]
    copies = [e for e in await logbook(client_for("coord"), activation) if e["promoted_from_id"]]
    assert len(copies) == 1


async def test_a_partner_reads_no_logbook(client_for: Any) -> None:
    activation = await cell_with_d3_held_by_op(client_for)
    partner = client_for("part")
    r = await partner.get("/api/logbook", params={"activation": activation})
    assert r.status_code == 403
    r = await partner.post("/api/logbook", json=entry(activation, "x", discipline="d3"))
    assert r.status_code == 403
