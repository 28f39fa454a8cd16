"""Concurrency is part of correctness: many writers, racing edits, retried creates."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter

import httpx

from tests.samples import SAMPLES

WRITERS, UPDATES, OBJECTS = 20, 50, 5


async def _update_with_retry(client: httpx.AsyncClient, oid: str, description: str) -> int:
    """Edit like a careful client: on 412 take the current version from the answer and retry."""
    version = (await client.get(f"/api/incidents/{oid}")).json()["properties"]["version"]
    for _ in range(200):
        r = await client.patch(
            f"/api/incidents/{oid}",
            headers={"If-Match": f'"{version}"'},
            json={"type": "Feature", "properties": {"description": description}},
        )
        if r.status_code == 200:
            return int(r.json()["properties"]["version"])
        assert r.status_code == 412, r.text
        version = r.json()["current"]["properties"]["version"]
    raise AssertionError("no progress after 200 attempts")


async def test_concurrent_writers_get_a_gap_free_feed_and_lose_no_update(server) -> None:
    limits = httpx.Limits(max_connections=WRITERS)
    async with httpx.AsyncClient(
        base_url=server.url,
        limits=limits,
        timeout=60,
        headers={"Authorization": f"Bearer {server.tokens['op']}"},
    ) as client:
        head_before = (await client.get("/api/changes", params={"limit": 1})).json()["head"]
        ids = [
            (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()["id"]
            for _ in range(OBJECTS)
        ]
        rng = random.Random(7)
        plan = [[rng.choice(ids) for _ in range(UPDATES)] for _ in range(WRITERS)]

        async def writer(w: int) -> None:
            for j, oid in enumerate(plan[w]):
                await _update_with_retry(client, oid, f"writer {w} update {j}")

        await asyncio.gather(*(writer(w) for w in range(WRITERS)))

        records = []
        since = head_before
        while True:
            page = (await client.get("/api/changes", params={"since": since, "limit": 5000})).json()
            if not page["changes"]:
                break
            records += page["changes"]
            since = page["changes"][-1]["seq"]
        mine = [c for c in records if c["id"] in ids]

    seqs = [c["seq"] for c in records]
    assert seqs == list(range(head_before + 1, head_before + 1 + len(seqs))), (
        "gap or duplicate in the feed"
    )
    assert len(mine) == OBJECTS + WRITERS * UPDATES
    planned = Counter(oid for row in plan for oid in row)
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.tokens['op']}"}
    ) as client:
        for oid in ids:
            final = (await client.get(f"/api/incidents/{oid}")).json()["properties"]["version"]
            assert final == 1 + planned[oid], "an update was lost"
            versions = [c["version"] for c in mine if c["id"] == oid]
            assert versions == list(range(1, final + 1))


async def test_two_edits_of_the_same_version_one_wins_the_other_gets_412(
    client: httpx.AsyncClient,
) -> None:
    oid = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()["id"]

    async def edit(title: str) -> httpx.Response:
        return await client.patch(
            f"/api/incidents/{oid}",
            headers={"If-Match": '"1"'},
            json={"type": "Feature", "properties": {"title": title}},
        )

    answers = await asyncio.gather(edit("Agent A"), edit("Agent B"))
    assert sorted(r.status_code for r in answers) == [200, 412]
    winner = next(r for r in answers if r.status_code == 200).json()["properties"]["title"]
    loser = next(r for r in answers if r.status_code == 412).json()
    assert loser["current"]["properties"]["title"] == winner


async def test_racing_retries_by_external_id_create_one_object(client_for) -> None:
    dispatch = client_for("dispatch-a")
    body = {
        **SAMPLES["incidents"][0],
        "properties": {
            **SAMPLES["incidents"][0]["properties"],
            "external_id": f"PZ-{uuid.uuid4()}",
        },
    }
    answers = await asyncio.gather(*(dispatch.post("/api/incidents", json=body) for _ in range(20)))
    assert sorted(r.status_code for r in answers) == [200] * 19 + [201]
    assert len({r.json()["id"] for r in answers}) == 1
    history = (await dispatch.get(f"/api/incidents/{answers[0].json()['id']}/history")).json()[
        "changes"
    ]
    assert [c["op"] for c in history] == ["created"]


async def test_racing_retries_with_an_idempotency_key_create_one_object(client_for) -> None:
    dispatch = client_for("dispatch-b")
    key = str(uuid.uuid4())
    answers = await asyncio.gather(
        *(
            dispatch.post(
                "/api/incidents", json=SAMPLES["incidents"][0], headers={"Idempotency-Key": key}
            )
            for _ in range(20)
        )
    )
    assert sorted(r.status_code for r in answers) == [200] * 19 + [201]
    assert len({r.json()["id"] for r in answers}) == 1


async def test_idempotency_key_reused_for_another_request_is_refused(
    client: httpx.AsyncClient,
) -> None:
    key = str(uuid.uuid4())
    first = await client.post(
        "/api/incidents", json=SAMPLES["incidents"][0], headers={"Idempotency-Key": key}
    )
    assert first.status_code == 201
    other = {
        **SAMPLES["incidents"][0],
        "properties": {**SAMPLES["incidents"][0]["properties"], "title": "Autre"},
    }
    r = await client.post("/api/incidents", json=other, headers={"Idempotency-Key": key})
    assert r.status_code == 422 and "Idempotency-Key" in r.json()["detail"]


async def test_same_key_from_another_client_is_a_different_request(client_for) -> None:
    key = str(uuid.uuid4())
    a = await client_for("dispatch-a").post(
        "/api/incidents", json=SAMPLES["incidents"][0], headers={"Idempotency-Key": key}
    )
    b = await client_for("dispatch-b").post(
        "/api/incidents", json=SAMPLES["incidents"][0], headers={"Idempotency-Key": key}
    )
    assert (a.status_code, b.status_code) == (201, 201) and a.json()["id"] != b.json()["id"]
