"""Migration 0004 creates exactly the tables the alerting models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import app.alerts.models  # noqa: F401  (registers the tables)
from app.db import Base

TABLES = {
    "partner_contacts",
    "partner_channels",
    "subscriptions",
    "alerts",
    "alert_recipients",
    "alert_deliveries",
    "alert_cursor",
    "alert_rule_matches",
    "alarm_campaigns",
}


def _table_of(diff: Any) -> str | None:
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item:
            name = getattr(part, "name", None)
            table = getattr(part, "table", None)
            if table is not None:
                return str(table.name)
            if isinstance(part, str) and part in TABLES:
                return part
            if name in TABLES:
                return str(name)
    return None


async def test_migrated_schema_matches_the_models(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [d for d in compare_metadata(context, Base.metadata) if _table_of(d) in TABLES]

    async with sessions() as session:
        connection = await session.connection()
        assert await connection.run_sync(differences) == []
