"""The database engine and sessions: one engine per app, opened and closed by the lifespan."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
import orjson
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection

from app.errors import not_found
from app.settings import Settings


class Base(DeclarativeBase):
    pass


M = TypeVar("M", bound=Base)


def timed_pool(observe: Callable[[float], None]) -> type[AsyncAdaptedQueuePool]:
    """The engine's pool (asyncio's QueuePool), telling `observe` how many seconds each
    checkout took: nothing while connections are idle in the pool, the wait for one to come
    back when all are in use, a connection's opening when the pool grows. A class of its own
    per engine, as the pool is remade from its class when the engine is disposed."""

    class TimedPool(AsyncAdaptedQueuePool):
        def connect(self) -> PoolProxiedConnection:
            start = time.perf_counter()
            try:
                return super().connect()
            finally:
                observe(time.perf_counter() - start)

    # Its log lines under SQLAlchemy's logger, which SQLAlchemy keeps to warnings, as its own
    # pool's (the logger is named after the pool's class).
    TimedPool.__module__ = AsyncAdaptedQueuePool.__module__
    return TimedPool


def make_engine(
    settings: Settings,
    pool_wait: Callable[[float], None] | None = None,
    *,
    read_only: bool = False,
) -> AsyncEngine:
    """`pool_wait`: told the seconds each checkout of a pool connection took. `read_only`: the
    engine of SITCEN_READ_DATABASE_URL, whose every transaction is read-only
    (`default_transaction_read_only`), so that a write sent there by mistake fails loudly
    rather than being lost on a copy or refused only once the copy is a standby."""
    url = settings.read_database_url if read_only else settings.database_url
    if not url:
        raise RuntimeError("no database URL: run through `sitcen serve` or set SITCEN_DATABASE_URL")
    extra: dict[str, Any] = {"poolclass": timed_pool(pool_wait)} if pool_wait else {}
    server_settings = {
        "application_name": "sitcen-read" if read_only else "sitcen",
        "timezone": "UTC",
        # Requests read pages of a hundred rows: starting parallel workers costs them more
        # (25 ms measured on a bbox list) than it saves, and takes the cores other requests
        # need.
        "max_parallel_workers_per_gather": "0",
    }
    if read_only:
        server_settings["default_transaction_read_only"] = "on"
    return create_async_engine(
        url,
        **extra,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        # No pre-ping: it costs a round trip per request. A connection broken by a database
        # restart fails one request and is discarded; clients retry safely (idempotent creates).
        pool_recycle=3600,
        json_serializer=lambda value: orjson.dumps(value).decode(),
        json_deserializer=orjson.loads,
        connect_args={"server_settings": server_settings},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def driver(session: AsyncSession, *, begin: bool = True) -> asyncpg.Connection:
    """The asyncpg connection under the session, inside the session's transaction.

    For the few statements on the hot path (authentication, create, change record): through
    SQLAlchemy each costs several times its own work in Python. SQLAlchemy's asyncpg adapter
    begins its transaction lazily, at its first statement; when none ran yet, it is begun here
    the same way, so that SQLAlchemy commits or rolls back what runs on the driver
    (tests/test_db.py holds the adapter to that). With `begin=False` and no transaction begun
    yet, a statement commits by itself: for a write that is one statement, two round trips
    fewer; once a transaction is begun, it runs in it like any other."""
    connection = await session.connection()
    adapted: Any = (await connection.get_raw_connection()).dbapi_connection
    raw: asyncpg.Connection = adapted.driver_connection
    if begin and not raw.is_in_transaction():
        await adapted._start_transaction()
    return raw


async def get_or_404(
    session: AsyncSession, model: type[M], ident: object, what: str, *, for_update: bool = False
) -> M:
    """The row with this primary key, or a 404 naming `what` and the id."""
    row = await session.get(model, ident, with_for_update=for_update)
    if row is None:
        raise not_found(what, ident)
    return row


async def insert_many(
    session: AsyncSession,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    **expressions: str,
) -> None:
    """Insert rows (all with the keys of the first) in one pipelined executemany on the driver,
    in the session's transaction; `expressions` sets columns to the same SQL expression in
    every row (e.g. next_attempt_at="now()"). For the hundred rows of an alert to a hundred
    partners, SQLAlchemy's multi-row insert cost 10-15 ms to build."""
    if not rows:
        return
    names = list(rows[0])
    columns = ", ".join([*names, *expressions])
    values = ", ".join([*(f"${i}" for i in range(1, len(names) + 1)), *expressions.values()])
    await (await driver(session)).executemany(
        f"INSERT INTO {table} ({columns}) VALUES ({values})",
        [tuple(row[n] for n in names) for row in rows],
    )


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose work commits at the end of the block or rolls back on error."""
    async with sessions() as session, session.begin():
        yield session


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Run the Alembic migrations (sync: call it before an event loop starts, or in a thread)."""
    from alembic import command
    from alembic.config import Config

    from app.settings import PROJECT_ROOT

    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)
