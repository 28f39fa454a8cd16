"""Migration 0005 leaves the users and reference tables exactly as the models describe them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.schema import differences_from_models

TABLES = {"users", "reference_areas"}


async def test_users_and_reference_areas_match_the_models(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await differences_from_models(sessions, TABLES) == []
