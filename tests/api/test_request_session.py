"""The request's session (app.api.deps.get_session, closed by app.middleware.RequestSession):
made at first use, closed once the request is answered whatever happened, its uncommitted work
rolled back and its connection back in the pool."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.deps import Session
from app.errors import conflict, install
from app.middleware import RequestSession

CREATE = "CREATE TABLE IF NOT EXISTS request_session_probe (id uuid PRIMARY KEY)"
INSERT = text("INSERT INTO request_session_probe VALUES (:id)")


class Counting:
    """The sessionmaker, counting the sessions made."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions, self.made = sessions, 0

    def __call__(self) -> AsyncSession:
        self.made += 1
        return self.sessions()


def probe_app(sessions: Counting) -> FastAPI:
    app = FastAPI()
    # Of the runtime (app.runtime), get_session reads the sessionmaker only.
    app.state.runtime = SimpleNamespace(sessions=sessions)
    install(app)
    app.add_middleware(RequestSession)

    @app.post("/commit/{probe}")
    async def commit(probe: uuid.UUID, session: Session) -> dict[str, str]:
        await session.execute(INSERT, {"id": probe})
        await session.commit()
        return {"ok": "yes"}

    @app.post("/refuse/{probe}")
    async def refuse(probe: uuid.UUID, session: Session) -> None:
        await session.execute(INSERT, {"id": probe})
        raise conflict("refused after writing")

    @app.post("/crash/{probe}")
    async def crash(probe: uuid.UUID, session: Session) -> None:
        await session.execute(INSERT, {"id": probe})
        raise RuntimeError("a bug after writing")

    @app.get("/twice")
    async def twice(first: Session, second: Session) -> dict[str, bool]:
        return {"same": first is second}

    @app.get("/plain")
    async def plain() -> dict[str, str]:
        return {"db": "untouched"}

    return app


@pytest.fixture
async def probe(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[tuple[httpx.AsyncClient, Counting]]:
    async with sessions() as session:
        await session.execute(text(CREATE))
        await session.commit()
    counting = Counting(sessions)
    transport = httpx.ASGITransport(app=probe_app(counting), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        yield client, counting


async def _stored(sessions: async_sessionmaker[AsyncSession], probe: uuid.UUID) -> bool:
    async with sessions() as session:
        found = await session.scalar(
            text("SELECT count(*) FROM request_session_probe WHERE id = :id"), {"id": probe}
        )
        return bool(found)


def _checked_out(sessions: async_sessionmaker[AsyncSession]) -> Any:
    return sessions.kw["bind"].pool.checkedout()


@pytest.mark.parametrize(
    ("path", "status", "kept"),
    [("commit", 200, True), ("refuse", 409, False), ("crash", 500, False)],
)
async def test_session_is_closed_after_the_answer_whatever_happened(
    probe: tuple[httpx.AsyncClient, Counting],
    sessions: async_sessionmaker[AsyncSession],
    path: str,
    status: int,
    kept: bool,
) -> None:
    client, counting = probe
    before = _checked_out(sessions)
    row = uuid.uuid4()
    answer = await client.post(f"/{path}/{row}")
    assert answer.status_code == status
    assert counting.made == 1
    assert await _stored(sessions, row) is kept, "only what was committed stays"
    assert _checked_out(sessions) == before, "the connection went back to the pool"


async def test_one_session_per_request_and_none_when_unused(
    probe: tuple[httpx.AsyncClient, Counting],
) -> None:
    client, counting = probe
    assert (await client.get("/twice")).json() == {"same": True}
    assert counting.made == 1
    assert (await client.get("/plain")).status_code == 200
    assert counting.made == 1, "a request that never asks for the session makes none"
