"""Decisions of a GCC activation: who decided (position and person), who recorded it, when and
on what basis; never changed nor deleted by anyone; corrected by a new decision shown beside
the one it corrects; chained by hashes so that a rewrite in the database is found, by the
endpoint and by the command, at the first entry it broke."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain import objects
from app.domain.actor import Actor
from app.domain.decision import SPEC
from app.domain.decision_chain import content_hash
from app.errors import ProblemError
from tests.cell.records import head, open_activation, props, seat
from tests.samples import feature
from tests.test_cli import sitcen


def decision(activation: str, title: str = "Fermeture du tunnel Louise", **extra: Any) -> Any:
    return feature(
        None,
        title=title,
        activation_id=activation,
        basis="Avis D1: fumée dans le tunnel",
        **{"decided_by_name": "Haut fonctionnaire de garde", **extra},
    )


async def record(client: httpx.AsyncClient, activation: str, **extra: Any) -> dict[str, Any]:
    return props(await client.post("/api/decisions", json=decision(activation, **extra)))


async def verify(client: httpx.AsyncClient, activation: str) -> dict[str, Any]:
    r = await client.get(f"/api/activations/{activation}/decisions/verify")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_decision_names_who_decided_who_recorded_it_and_its_place_in_the_chain(
    client_for: Any,
) -> None:
    coord = client_for("coord")
    activation = await open_activation(coord)
    high_official = await seat(coord, activation, "high_official", holder="off")
    first = await record(
        coord,
        activation,
        decided_by_position_id=high_official,
        decided_by_name=None,
        decided_at="2026-09-26T14:05:00+02:00",
        discipline="d3",
    )
    # The person defaults to the position's holder; who recorded it is the writer.
    assert first["decided_by_name"] == "off" and first["created_by"] == "coord"
    assert first["decided_by_position_id"] == high_official
    assert first["decided_at"] == "2026-09-26T12:05:00+00:00"
    assert (first["chain_seq"], first["prev_hash"], first["ref"][:4]) == (1, None, "DEC-")
    # The hash is the SHA-256 of the canonical content (docs/crisis-cell.md): anyone can redo it.
    assert first["hash"] == content_hash(first)
    second = await record(client_for("op"), activation, title="Évacuation de la place Stéphanie")
    assert (second["chain_seq"], second["prev_hash"]) == (2, first["hash"])
    assert second["created_by"] == "op" and second["visibility"] == "internal"
    verdict = await verify(coord, activation)
    assert verdict == {
        "activation_id": activation,
        "decisions": 2,
        "intact": True,
        "head": second["hash"],
        "broken": None,
    }
    # Another activation's chain starts again at 1.
    other = await record(coord, await open_activation(coord))
    assert (other["chain_seq"], other["prev_hash"]) == (1, None)


async def test_who_decided_must_be_known_and_of_this_cell(client_for: Any) -> None:
    coord = client_for("coord")
    activation = await open_activation(coord)
    elsewhere = await seat(coord, await open_activation(coord), "high_official", holder="off")
    before = await head(coord)
    r = await coord.post(
        "/api/decisions", json=decision(activation, decided_by_position_id=elsewhere)
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "properties", "decided_by_position_id"]
    vacant = await seat(coord, activation, "high_official")
    before = await head(coord)
    r = await coord.post(
        "/api/decisions",
        json=decision(activation, decided_by_position_id=vacant, decided_by_name=None),
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "properties", "decided_by_name"]
    r = await coord.post("/api/decisions", json=decision(str(uuid.uuid4())))
    assert r.status_code == 422 and "activation_id" in r.json()["errors"][0]["loc"]
    r = await coord.post("/api/decisions", json=decision(activation, chain_seq=7))
    assert r.status_code == 422, "the chain is the server's to number"
    assert await head(coord) == before
    assert (await verify(coord, activation))["decisions"] == 0


@pytest.mark.parametrize("who", ["op", "coord", "off", "adm", "part"])
async def test_nobody_changes_or_deletes_a_decision_not_even_an_admin(
    client_for: Any, who: str
) -> None:
    coord = client_for("coord")
    activation = await open_activation(coord)
    created = (await coord.post("/api/decisions", json=decision(activation))).json()
    url = f"/api/decisions/{created['id']}"
    before = await head(coord)
    caller = client_for(who)
    patch = await caller.patch(
        url,
        json={"type": "Feature", "properties": {"basis": "Autre avis"}},
        headers={"If-Match": '"1"'},
    )
    assert patch.status_code == 405, patch.text
    assert patch.headers["content-type"] == "application/problem+json"
    assert "GET" in patch.headers["allow"] and "PATCH" not in patch.headers["allow"]
    assert (await caller.delete(url)).status_code == 405
    assert (await caller.put(url, json=created)).status_code == 405
    assert await head(coord) == before
    assert (await coord.get(url)).json() == created
    assert (await verify(coord, activation))["intact"] is True


async def test_the_write_path_refuses_to_rewrite_a_decision_whoever_calls_it(
    client_for: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A command or a worker, not only the routes: objects.update and objects.remove answer 409."""
    coord = client_for("coord")
    created = await coord.post("/api/decisions", json=decision(await open_activation(coord)))
    oid = uuid.UUID(created.json()["id"])
    admin = Actor("adm", "user", role="admin")
    async with sessions() as session:
        with pytest.raises(ProblemError) as refused:
            await objects.update(
                session, SPEC, oid, SPEC.update_schema.model_construct(), None, 1, admin
            )
        assert refused.value.status == 409 and "correct" in refused.value.detail
        with pytest.raises(ProblemError) as refused:
            await objects.remove(session, SPEC, oid, None, admin)
        assert refused.value.status == 409
    assert (await coord.get(f"/api/decisions/{oid}")).json() == created.json()


async def test_a_correction_is_a_new_decision_shown_beside_the_one_it_corrects(
    client_for: Any,
) -> None:
    coord = client_for("coord")
    activation = await open_activation(coord)
    original = (await coord.post("/api/decisions", json=decision(activation))).json()
    correction = await record(
        client_for("off"),
        activation,
        title="Fermeture du tunnel Louise, sens entrant seulement",
        corrects_id=original["id"],
    )
    assert correction["corrects_id"] == original["id"] and correction["chain_seq"] == 2
    read = (await coord.get(f"/api/decisions/{original['id']}")).json()
    assert read["properties"]["corrected_by"] == [correction["id"]]
    # The original is as it was written: content, version, hash; only who corrects it is added.
    unchanged = {k: v for k, v in read["properties"].items() if k != "corrected_by"}
    assert unchanged == {k: v for k, v in original["properties"].items() if k != "corrected_by"}
    listed = (await coord.get("/api/decisions", params={"activation": activation})).json()
    assert {f["id"] for f in listed["features"]} == {original["id"], correction["id"]}
    assert (await verify(coord, activation))["intact"] is True
    # A correction stays in the activation of what it corrects.
    r = await coord.post(
        "/api/decisions",
        json=decision(await open_activation(coord), corrects_id=original["id"]),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "properties", "corrects_id"]


async def test_a_partner_reads_a_decision_only_when_shared_and_then_its_correction_too(
    client_for: Any,
) -> None:
    coord, partner = client_for("coord"), client_for("part")
    activation = await open_activation(coord)
    internal = (await coord.post("/api/decisions", json=decision(activation))).json()
    shared = (
        await coord.post("/api/decisions", json=decision(activation, shared_with=["pz-5339"]))
    ).json()
    assert (await partner.get(f"/api/decisions/{internal['id']}")).status_code == 404
    assert (await partner.get(f"/api/decisions/{shared['id']}")).status_code == 200
    correction = (
        await coord.post("/api/decisions", json=decision(activation, corrects_id=shared["id"]))
    ).json()
    # Whoever read the decision reads what corrects it, without being added by hand.
    assert correction["properties"]["shared_with"] == ["pz-5339"]
    listed = (await partner.get("/api/decisions", params={"activation": activation})).json()
    assert {f["id"] for f in listed["features"]} == {shared["id"], correction["id"]}
    assert (await partner.get(f"/api/activations/{activation}/decisions/verify")).status_code == 403
    assert (await client_for("part-b").get(f"/api/decisions/{shared['id']}")).status_code == 404


async def test_decisions_recorded_at_once_chain_one_after_the_other(client_for: Any) -> None:
    callers = [client_for(who) for who in ("op", "coord", "off")]
    activation = await open_activation(callers[0])
    count = 24
    answers = await asyncio.gather(
        *(
            callers[i % 3].post("/api/decisions", json=decision(activation, title=f"Décision {i}"))
            for i in range(count)
        )
    )
    assert [r.status_code for r in answers] == [201] * count
    chain = sorted((r.json()["properties"] for r in answers), key=lambda p: p["chain_seq"])
    assert [p["chain_seq"] for p in chain] == list(range(1, count + 1))
    assert [p["prev_hash"] for p in chain] == [None, *(p["hash"] for p in chain[:-1])]
    verdict = await verify(callers[0], activation)
    assert verdict["intact"] and verdict["decisions"] == count
    assert verdict["head"] == chain[-1]["hash"]


async def _tamper(sessions: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> None:
    async with sessions() as session:
        await session.execute(text(sql), params)
        await session.commit()


async def _three(coord: httpx.AsyncClient) -> tuple[str, list[dict[str, Any]]]:
    activation = await open_activation(coord)
    made = [
        await record(coord, activation, title=f"Décision {n}", discipline="d1") for n in (1, 2, 3)
    ]
    assert (await verify(coord, activation))["intact"] is True
    return activation, made


def _command(settings: Any, activation: str) -> Any:
    return sitcen(settings, "verify-decisions", "--activation", activation)


async def test_a_decision_rewritten_in_the_database_is_named_by_endpoint_and_command(
    client_for: Any, sessions: async_sessionmaker[AsyncSession], settings: Any
) -> None:
    coord = client_for("coord")
    activation, made = await _three(coord)
    intact = await asyncio.to_thread(_command, settings, activation)
    assert intact.returncode == 0, intact.stderr
    assert "3 decisions, chain intact" in intact.stdout and made[2]["hash"] in intact.stdout

    await _tamper(
        sessions, "UPDATE decisions SET basis = 'Avis de personne' WHERE id = :id", id=made[1]["id"]
    )
    verdict = await verify(coord, activation)
    assert verdict["intact"] is False and verdict["head"] is None
    broken = verdict["broken"]
    assert (broken["ref"], broken["chain_seq"], broken["check"], broken["id"]) == (
        made[1]["ref"],
        2,
        "hash",
        made[1]["id"],
    )
    out = await asyncio.to_thread(_command, settings, activation)
    assert out.returncode == 1
    assert f"BROKEN at {made[1]['ref']} (number 2" in out.stdout and "check hash" in out.stdout
    assert "1 decision chain(s) broken" in out.stderr
    # Without --activation, every activation's chain: this one broken, an untouched one intact.
    untouched = await open_activation(coord)
    await record(coord, untouched)
    everything = await asyncio.to_thread(sitcen, settings, "verify-decisions")
    assert everything.returncode == 1
    lines = everything.stdout.splitlines()
    assert f"activation {activation}: chain BROKEN at {made[1]['ref']}" in everything.stdout
    assert any(
        line.startswith(f"activation {untouched}: 1 decision, chain intact") for line in lines
    )


async def test_a_rewrite_that_recomputes_its_hash_breaks_the_next_link(
    client_for: Any, sessions: async_sessionmaker[AsyncSession], settings: Any
) -> None:
    coord = client_for("coord")
    activation, made = await _three(coord)
    forged = {**made[0], "title": "Décision 1 (réécrite)"}
    await _tamper(
        sessions,
        "UPDATE decisions SET title = :title, hash = :hash WHERE id = :id",
        title=forged["title"],
        hash=content_hash(forged),
        id=made[0]["id"],
    )
    broken = (await verify(coord, activation))["broken"]
    assert (broken["ref"], broken["chain_seq"], broken["check"]) == (made[1]["ref"], 2, "prev_hash")
    out = await asyncio.to_thread(_command, settings, activation)
    assert out.returncode == 1 and f"BROKEN at {made[1]['ref']}" in out.stdout
    assert "check prev_hash" in out.stdout


async def test_a_decision_removed_from_the_database_is_found_at_the_gap(
    client_for: Any, sessions: async_sessionmaker[AsyncSession], settings: Any
) -> None:
    coord = client_for("coord")
    activation, made = await _three(coord)
    await _tamper(sessions, "DELETE FROM decisions WHERE id = :id", id=made[1]["id"])
    broken = (await verify(coord, activation))["broken"]
    assert (broken["ref"], broken["chain_seq"], broken["check"]) == (made[2]["ref"], 3, "sequence")
    out = await asyncio.to_thread(_command, settings, activation)
    assert out.returncode == 1 and "check sequence" in out.stdout


async def test_verifying_an_unknown_activation_is_a_404(client_for: Any) -> None:
    r = await client_for("coord").get(f"/api/activations/{uuid.uuid4()}/decisions/verify")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
