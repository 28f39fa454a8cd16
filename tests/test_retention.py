"""SITCEN_FEED_RETENTION_DAYS does what the README says: changes older than the retention are
pruned (audited, in batches), each object's last state is kept so that the picture from the
horizon on stays exact, `/api/changes` and `/ws` tell a `since` before the horizon to reset,
and `?at=` before it answers 410. The clock is injected: nothing waits thirty days.

A database and a server of their own: pruning the session's shared feed would take history
from every other test.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import localdb
from app.alerts.workers.evaluator import EVALUATOR_LOCK
from app.cli import load_reference
from app.db import make_engine, make_sessionmaker, transaction, upgrade_database
from app.domain.retention import Pruned, prune
from app.errors import PROBLEM_MEDIA_TYPE
from app.settings import PROJECT_ROOT, Settings, plain_url
from tests.conftest import (
    PASSWORD,
    REFERENCE_DIR,
    Server,
    eventually,
    incident,
    start_server,
    stop_server,
)
from tests.realtime.conftest import Feed

DAYS = 30


@dataclass
class Kept:
    """The server and database of this module."""

    server: Server
    url: str
    sessions: async_sessionmaker[AsyncSession]
    tokens: dict[str, str] = field(default_factory=dict)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, who: str) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        c = httpx.AsyncClient(base_url=self.server.url, headers=headers, timeout=30)
        self.clients.append(c)
        return c

    async def head_and_cursor(self) -> tuple[int, int]:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT f.seq, c.seq FROM feed_counter f, feed_cursors c"
                        " WHERE f.id = 1 AND c.name = 'alerts'"
                    )
                )
            ).one()
        return int(row[0]), int(row[1])

    async def evaluated(self) -> None:
        """Wait until the alert evaluator has read every change: pruning keeps what it has not."""

        async def check() -> bool:
            head, cursor = await self.head_and_cursor()
            return cursor >= head

        await eventually(check, "the alert evaluator to reach the head")

    async def seqs(self) -> list[int]:
        async with self.sessions() as session:
            return list((await session.scalars(text("SELECT seq FROM changes ORDER BY seq"))).all())


@pytest.fixture(scope="module")
async def kept() -> AsyncIterator[Kept]:
    from app.auth.roles import Role
    from app.auth.service import create_user

    base = os.environ.get("SITCEN_TEST_DATABASE_BASE") or localdb.ensure_cluster(
        PROJECT_ROOT / ".local", int(os.environ.get("SITCEN_LOCAL_PG_PORT", "54329"))
    )
    name = f"sitcen_retention_{os.getpid()}"
    url = localdb.ensure_database(base, name)
    await asyncio.to_thread(upgrade_database, url)  # Alembic runs an event loop of its own
    settings = Settings(database_url=url, secret_key=secrets.token_urlsafe(48))
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    await load_reference(sessions, [str(REFERENCE_DIR)])
    async with transaction(sessions) as session:
        for user, role in (("op", Role.operator), ("adm", Role.admin)):
            await create_user(session, user, PASSWORD, role, actor="tests")
    server = await asyncio.to_thread(
        start_server, settings, None, {"SITCEN_FEED_RETENTION_DAYS": str(DAYS)}, "retention"
    )
    state = Kept(server, url, sessions)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as anon:
        for user in ("op", "adm"):
            r = await anon.post("/api/auth/token", data={"username": user, "password": PASSWORD})
            state.tokens[user] = r.json()["access_token"]
    yield state
    for c in state.clients:
        await c.aclose()
    stop_server(server)
    await engine.dispose()
    localdb.drop_database(base, name)


async def _create(op: httpx.AsyncClient, title: str) -> str:
    r = await op.post("/api/incidents", json=incident(title))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _retitle(op: httpx.AsyncClient, oid: str, version: int, title: str) -> None:
    r = await op.patch(
        f"/api/incidents/{oid}",
        headers={"If-Match": f'"{version}"'},
        json={"type": "Feature", "properties": {"title": title}},
    )
    assert r.status_code == 200, r.text


def _picture(body: dict[str, Any]) -> list[tuple[str, int, str]]:
    return sorted(
        (f["id"], f["properties"]["version"], f["properties"]["title"]) for f in body["features"]
    )


async def test_pruning_keeps_each_objects_last_state_and_the_picture_from_the_horizon_on(
    kept: Kept,
) -> None:
    op, adm = kept.client("op"), kept.client("adm")
    a = await _create(op, "A v1")
    await _retitle(op, a, 1, "A v2")
    await _retitle(op, a, 2, "A v3")
    b = await _create(op, "B")
    c = await _create(op, "C, created by mistake")
    assert (await adm.delete(f"/api/incidents/{c}")).status_code == 204
    # Thirty days later, as far as the clock is concerned:
    await _retitle(op, a, 3, "A v4")
    d = await _create(op, "D")

    feed = (await op.get("/api/changes", params={"since": 0})).json()["changes"]
    assert [(x["op"], x["version"]) for x in feed][:6] == [
        ("created", 1),
        ("updated", 2),
        ("updated", 3),
        ("created", 1),
        ("created", 1),
        ("deleted", 2),
    ]
    first_kept, last_pruned = feed[6], feed[5]
    horizon = last_pruned["at"]
    before = {
        "at the horizon": _picture((await op.get("/api/incidents", params={"at": horizon})).json()),
        "now": _picture((await op.get("/api/incidents")).json()),
    }
    await kept.evaluated()

    pruned = await prune(
        kept.sessions,
        keep=timedelta(days=DAYS),
        now=datetime.fromisoformat(first_kept["at"]) + timedelta(days=DAYS),
        keep_unevaluated=True,
        batch=2,
    )

    # A's two superseded states, and C altogether; A's last state before the horizon (v3) and
    # B's only one stay: they are the picture at the horizon.
    assert pruned == Pruned(
        deleted=4,
        batches=3,
        oldest=first_kept["seq"],
        oldest_at=datetime.fromisoformat(horizon),
    )
    seqs = [x["seq"] for x in feed]
    assert await kept.seqs() == [seqs[2], seqs[3], seqs[6], seqs[7]]

    # Objects and their current state are untouched.
    assert [
        (await op.get(f"/api/incidents/{x}")).json()["properties"]["title"] for x in (a, b, d)
    ] == ["A v4", "B", "D"]
    assert _picture((await op.get("/api/incidents")).json()) == before["now"]

    # The picture from the horizon on is exactly what it was.
    at_horizon = await op.get("/api/incidents", params={"at": horizon})
    assert _picture(at_horizon.json()) == before["at the horizon"]
    read = await op.get(f"/api/incidents/{a}", params={"at": horizon})
    assert read.json()["properties"]["title"] == "A v3"
    history = (await op.get(f"/api/incidents/{a}/history")).json()["changes"]
    assert [x["version"] for x in history] == [3, 4]

    # Before it, the answer says that it is gone, and from when the feed is kept.
    gone = await op.get("/api/incidents", params={"at": feed[0]["at"]})
    assert gone.status_code == 410
    assert gone.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = gone.json()
    assert datetime.fromisoformat(problem["oldest_at"]) == datetime.fromisoformat(horizon)
    assert "can no longer be rebuilt" in problem["detail"] and "kept from" in problem["detail"]
    one = await op.get(f"/api/incidents/{a}", params={"at": feed[0]["at"]})
    assert one.status_code == 410

    # The feed: `oldest` says where it is complete from; a since before it gets a reset.
    late = (await op.get("/api/changes", params={"since": 0})).json()
    assert late["reset"] is True and late["changes"] == []
    assert late["oldest"] == first_kept["seq"] and late["next_since"] == late["head"]
    assert datetime.fromisoformat(late["oldest_at"]) == datetime.fromisoformat(horizon)
    on_time = (await op.get("/api/changes", params={"since": first_kept["seq"] - 1})).json()
    assert "reset" not in on_time
    assert [x["seq"] for x in on_time["changes"]] == seqs[6:8]

    stream = await Feed.open(kept.server.ws_url, kept.tokens["op"], since=0)
    try:
        assert (await stream.next())["type"] == "welcome"
        reset = await stream.next()
        assert reset["type"] == "reset" and "no longer kept" in reset["reason"]
    finally:
        await stream.close()
    stream = await Feed.open(kept.server.ws_url, kept.tokens["op"], since=first_kept["seq"] - 1)
    try:
        assert (await stream.next())["type"] == "welcome"
        await stream.until_seq(seqs[7])
        assert stream.seqs() == seqs[6:8]
    finally:
        await stream.close()

    # Audited.
    events = (await adm.get("/api/audit", params={"kind": "feed_pruned"})).json()["events"]
    (event,) = [e for e in events if e["actor"] == "system:retention"]
    assert event["detail"]["deleted"] == 4 and event["detail"]["oldest"] == first_kept["seq"]


async def test_changes_the_alert_evaluator_has_not_read_are_kept(kept: Kept) -> None:
    op = kept.client("op")
    await kept.evaluated()
    evaluation_down = await asyncpg.connect(plain_url(kept.url))
    try:
        await evaluation_down.execute("SELECT pg_advisory_lock($1)", EVALUATOR_LOCK)
        await _create(op, "written while alerting is down")
        head, cursor = await kept.head_and_cursor()
        assert cursor == head - 1
        pruned = await prune(
            kept.sessions,
            keep=timedelta(days=1),
            now=datetime.now(UTC) + timedelta(days=10),
            keep_unevaluated=True,
        )
        assert pruned is not None and pruned.oldest == head
        assert head in await kept.seqs()
    finally:
        await evaluation_down.execute("SELECT pg_advisory_unlock($1)", EVALUATOR_LOCK)
        await evaluation_down.close()


async def test_sitcen_feed_prune_prunes_now_and_is_audited(kept: Kept) -> None:
    op, adm = kept.client("op"), kept.client("adm")
    await _create(op, "before the command")
    await kept.evaluated()
    head, _ = await kept.head_and_cursor()
    env = {**os.environ, "SITCEN_DATABASE_URL": kept.url, "SITCEN_SECRET_KEY": "x" * 40}
    env.pop("SITCEN_LOCAL_MODE", None)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "feed", "prune", "--days", "0"],
        env=env,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"every change from seq {head + 1} is kept" in done.stdout
    changes = (await op.get("/api/changes", params={"since": head - 1})).json()
    assert changes["oldest"] == head + 1 and changes["reset"] is True
    events = (await adm.get("/api/audit", params={"kind": "feed_pruned"})).json()["events"]
    assert events[0]["actor"] == "cli" and events[0]["detail"]["oldest"] == head + 1


async def test_the_service_prunes_by_itself_when_the_setting_is_set(kept: Kept) -> None:
    health = (await kept.client("adm").get("/api/alerts/health")).json()
    pruning = health["loops"]["feed-prune"]
    assert pruning["running"] is True and pruning["steps"] >= 1
    assert pruning["errors"] == {"unexpected": 0, "database_unreachable": 0}
