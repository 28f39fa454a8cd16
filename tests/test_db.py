"""Statements run on the driver (app.db.driver) belong to the session's transaction."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import driver

CREATE = "CREATE TABLE IF NOT EXISTS driver_probe (id uuid PRIMARY KEY)"


async def _count(sessions: async_sessionmaker[AsyncSession], probe: uuid.UUID) -> int:
    async with sessions() as session:
        found = await session.scalar(
            text("SELECT count(*) FROM driver_probe WHERE id = :id"), {"id": probe}
        )
        return int(found or 0)


async def test_driver_statements_commit_and_roll_back_with_the_session(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        await session.execute(text(CREATE))
        await session.commit()

    kept, dropped, mixed = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # First statement of the session on the driver: the transaction is begun there.
    async with sessions() as session:
        connection = await driver(session)
        await connection.execute("INSERT INTO driver_probe VALUES ($1)", kept)
        await session.commit()
    async with sessions() as session:
        connection = await driver(session)
        await connection.execute("INSERT INTO driver_probe VALUES ($1)", dropped)
        await session.rollback()
    # After a SQLAlchemy statement, the driver joins the transaction already begun.
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
        await (await driver(session)).execute("INSERT INTO driver_probe VALUES ($1)", mixed)
        # closed without commit: rolled back

    assert await _count(sessions, kept) == 1
    assert await _count(sessions, dropped) == 0
    assert await _count(sessions, mixed) == 0


async def test_a_session_that_commits_after_the_driver_commits_both(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    async with sessions() as session:
        await session.execute(text(CREATE))
        await session.commit()
    async with sessions() as session:
        await (await driver(session)).execute("INSERT INTO driver_probe VALUES ($1)", first)
        await session.execute(text("INSERT INTO driver_probe VALUES (:id)"), {"id": second})
        await session.commit()
    assert await _count(sessions, first) == 1
    assert await _count(sessions, second) == 1
