"""Whether the migrated database holds given tables exactly as the models describe them: the
migrations, not `create_all`, build the schema the tests run on."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import Base


def _tables_of(diff: Any) -> set[str]:
    """The table names an autogenerate difference mentions (a table, a column or an index
    of it, or a name given as text)."""
    found: set[str] = set()
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item:
            table = getattr(part, "table", None)
            name = getattr(part, "name", None)
            if table is not None:
                found.add(str(table.name))
            elif isinstance(part, str):
                found.add(part)
            elif isinstance(name, str):
                found.add(name)
    return found


async def differences_from_models(
    sessions: async_sessionmaker[AsyncSession], tables: set[str]
) -> list[Any]:
    """Alembic's differences between the database and the models that concern `tables`."""

    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [d for d in compare_metadata(context, Base.metadata) if _tables_of(d) & tables]

    async with sessions() as session:
        connection = await session.connection()
        found: list[Any] = await connection.run_sync(differences)
        return found
