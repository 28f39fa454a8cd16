"""A database of its own for a test module: migrated, reference layers loaded, nothing else."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import localdb
from app.db import make_engine, make_sessionmaker, upgrade_database
from app.settings import PROJECT_ROOT, Settings
from tests.conftest import REFERENCE_DIR


@dataclass(frozen=True)
class Fresh:
    url: str
    sessions: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def fresh_database(tag: str) -> AsyncIterator[Fresh]:
    from app.cli import load_reference

    base = os.environ.get("SITCEN_TEST_DATABASE_BASE") or localdb.ensure_cluster(
        PROJECT_ROOT / ".local", int(os.environ.get("SITCEN_LOCAL_PG_PORT", "54329"))
    )
    name = f"sitcen_test_{tag}_{os.getpid()}"
    url = localdb.ensure_database(base, name)
    try:
        await asyncio.to_thread(upgrade_database, url)  # alembic runs its own event loop
        engine = make_engine(Settings(database_url=url, secret_key="x" * 48))
        try:
            sessions = make_sessionmaker(engine)
            await load_reference(sessions, [str(REFERENCE_DIR)])
            yield Fresh(url, sessions)
        finally:
            await engine.dispose()
    finally:
        localdb.drop_database(base, name)
