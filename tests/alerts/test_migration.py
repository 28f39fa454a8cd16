"""Migration 0004 creates exactly the tables the alerting models describe."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import app.alerts.models  # noqa: F401  (registers the tables)
from tests.schema import differences_from_models

TABLES = {
    "partner_contacts",
    "partner_channels",
    "subscriptions",
    "alerts",
    "alert_recipients",
    "alert_deliveries",
    "feed_cursors",
    "alert_rule_matches",
    "alarm_campaigns",
    "push_subscriptions",
}


async def test_migrated_schema_matches_the_models(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await differences_from_models(sessions, TABLES) == []
