"""The migrations, which build every database, build exactly the schema the models describe:
a column added to a model without its migration (or the reverse) fails here, not in
production."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import Base
from tests.schema import differences_from_models


async def test_every_table_is_migrated_as_its_model_says(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await differences_from_models(sessions, set(Base.metadata.tables)) == []
