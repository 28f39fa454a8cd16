"""Migration 0005 leaves the users and reference tables exactly as the models describe them."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import Base

TABLES = {"users", "reference_areas"}


def _tables(diff: Any) -> set[str]:
    found: set[str] = set()
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item:
            table = getattr(part, "table", None)
            if table is not None:
                found.add(str(table.name))
            if isinstance(part, str):
                found.add(part)
    return found


async def test_users_and_reference_areas_match_the_models(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [d for d in compare_metadata(context, Base.metadata) if _tables(d) & TABLES]

    async with sessions() as session:
        connection = await session.connection()
        assert await connection.run_sync(differences) == []
