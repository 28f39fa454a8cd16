"""A past to replay, for tests and benchmarks only: the feed's records given commit times in the
past, as if they had been written then.

The service never does this: a record's time is its commit's (app.domain.changes). But a test
database's demo was written a second ago, and a replay of the papal visit (26–29 Sept 2024)
needs its records in September 2024. So, in a database of its own before its server starts,
each record gets a time and the records are numbered again in that order, keeping what the feed
promises a reader: numbers gap-free, and times rising with them.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

# Each object's records, spread from two hours before its window opens to an hour after it
# closes (or two hours after it opened): the object appears before its time, changes during it.
_AS_LIVED = """
WITH firsts AS (
    SELECT DISTINCT ON (entity_id) entity_id, feature -> 'properties' AS p
    FROM changes ORDER BY entity_id, seq
), bounds AS (
    SELECT entity_id,
           COALESCE(p ->> 'valid_from', p ->> 'starts_at', p ->> 'occurred_at',
                    p ->> 'opened_at', p ->> 'decided_at', $1::text)::timestamptz AS opens,
           COALESCE(p ->> 'valid_to', p ->> 'ends_at', p ->> 'closed_at')::timestamptz AS closes
    FROM firsts
), numbered AS (
    SELECT id, seq, entity_id,
           row_number() OVER (PARTITION BY entity_id ORDER BY seq) - 1 AS k,
           count(*) OVER (PARTITION BY entity_id) AS n
    FROM changes
)
SELECT n.id, n.seq,
       LEAST(now() - interval '1 day',
             b.opens - interval '2 hours'
             + CASE WHEN n.n > 1
                    THEN (n.k::float8 / (n.n - 1))
                         * (COALESCE(b.closes, b.opens + interval '2 hours') + interval '3 hours'
                            - b.opens)
                    ELSE interval '0' END) AS at
FROM numbered n JOIN bounds b USING (entity_id)
"""

# Every record, in its order, spread evenly over a window.
_SPREAD = """
SELECT id, seq,
       $1::timestamptz + ($2::timestamptz - $1::timestamptz)
           * ((row_number() OVER (ORDER BY seq) - 1)::float8 / GREATEST(count(*) OVER () - 1, 1))
           AS at
FROM changes
"""


async def _renumber(connection: asyncpg.Connection, dated: str, *args: object) -> int:
    async with connection.transaction():
        await connection.execute(
            f"CREATE TEMP TABLE dated ON COMMIT DROP AS SELECT * FROM ({dated}) d", *args
        )
        await connection.execute("UPDATE changes SET seq = -seq")
        await connection.execute(
            """UPDATE changes c SET seq = r.rn, at = r.at
               FROM (SELECT id, at, row_number() OVER (ORDER BY at, seq) AS rn FROM dated) r
               WHERE c.id = r.id"""
        )
        count = int(await connection.fetchval("SELECT count(*) FROM changes"))
        await connection.execute("UPDATE feed_counter SET seq = $1 WHERE id = 1", count)
        return count


async def date_as_lived(url: str, default: datetime) -> int:
    """Every record at its object's own times (`default` for an object without any)."""
    connection = await asyncpg.connect(url)
    try:
        return await _renumber(connection, _AS_LIVED, default.isoformat())
    finally:
        await connection.close()


async def spread_over(url: str, start: datetime, end: datetime) -> int:
    """Every record, in its order, spread evenly from `start` to `end`."""
    connection = await asyncpg.connect(url)
    try:
        return await _renumber(connection, _SPREAD, start, end)
    finally:
        await connection.close()
