"""Shift handover: building a busy shift's handover (app.reports.handover.build) beside the
least a reader of the same shift must do, in the same run.

    .venv/bin/python bench/handover.py --objects 10000 --changes-each 5
    .venv/bin/python bench/handover.py --database-base postgresql://postgres@127.0.0.1:5432

Starts its own database (the project-local PostGIS cluster, or the server given) and writes
change records straight into the feed: a third of the objects created in the shift, the others
created before it and changed (some closed) in it, `--changes-each` records each. Then it times:
- handover: `build` for that shift (the per-kind groups of new, changed, closed objects with
  their state before the shift, open incidents, activations, tasks, alerts), as
  GET /api/handovers/current and the hand-over do;
- floor: one asyncpg query that fetches every record of the shift (entity_id, op, feature):
  what anything that reads the shift's changes does at the least.
Prints milliseconds (best of --rounds) and the ratio handover / floor. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import orjson

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

DATABASE = "sitcen_bench_handover"

INSERT = """
INSERT INTO changes (entity, entity_id, op, version, actor, at, feature)
SELECT 'incident', id, op, version, 'bench', now(), feature::jsonb
FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[]) AS t(id, op, version, feature)
"""


def feature(object_id: uuid.UUID, n: int, status: str) -> str:
    return orjson.dumps(
        {
            "type": "Feature",
            "id": str(object_id),
            "geometry": None,
            "properties": {"ref": f"INC-B-{n:06d}", "title": f"Bench {n}", "status": status},
        }
    ).decode()


async def write(url: str, objects: int, each: int) -> tuple[datetime, datetime]:
    """Records before the shift, then the shift's; the shift's bounds (database time)."""
    db = await asyncpg.connect(url)
    try:
        ids = [uuid.uuid4() for _ in range(objects)]
        older = [i for n, i in enumerate(ids) if n % 3]
        async with db.transaction():
            await db.execute(
                INSERT,
                older,
                ["created"] * len(older),
                [1] * len(older),
                [feature(i, n, "ongoing") for n, i in enumerate(older)],
            )
        start = await db.fetchval("SELECT clock_timestamp()")
        rows: tuple[list[uuid.UUID], list[str], list[int], list[str]] = ([], [], [], [])
        for n, i in enumerate(ids):
            new = n % 3 == 0
            for k in range(each):
                last = k == each - 1
                status = "closed" if last and n % 7 == 0 else "ongoing"
                rows[0].append(i)
                rows[1].append("created" if new and k == 0 else "updated")
                rows[2].append(k + 2)
                rows[3].append(feature(i, n, status))
        async with db.transaction():
            await db.execute(INSERT, *rows)
        end = await db.fetchval("SELECT clock_timestamp()")
        await db.execute("ANALYZE changes")
        return start, end
    finally:
        await db.close()


async def floor(url: str, start: datetime, end: datetime) -> tuple[float, int]:
    db = await asyncpg.connect(url)
    try:
        began = time.perf_counter()
        rows = await db.fetch(
            "SELECT entity_id, op, feature FROM changes WHERE at > $1 AND at <= $2 ORDER BY seq",
            start,
            end,
        )
        return time.perf_counter() - began, len(rows)
    finally:
        await db.close()


async def handover(url: str, start: datetime, end: datetime) -> tuple[float, dict[str, int]]:
    from app.db import make_engine, make_sessionmaker
    from app.reports.handover import build
    from app.reports.shifts import Shift
    from app.settings import Settings

    engine = make_engine(Settings(database_url=url, secret_key="bench-" + "x" * 40))
    try:
        async with make_sessionmaker(engine)() as session:
            began = time.perf_counter()
            content = await build(session, Shift(start, end), datetime.now(UTC))
            took = time.perf_counter() - began
    finally:
        await engine.dispose()
    return took, content["changes"]["kinds"]["incident"]["counts"]


async def run(url: str, objects: int, each: int, rounds: int) -> None:
    start, end = await write(url, objects, each)
    best_floor = best_handover = float("inf")
    records = 0
    counts: dict[str, int] = {}
    for _ in range(rounds):
        took, records = await floor(url, start, end)
        best_floor = min(best_floor, took)
        took, counts = await handover(url, start, end)
        best_handover = min(best_handover, took)
    print(f"shift: {records} change records, {objects} objects; handover groups {counts}")
    print(f"floor (fetch the shift's records): {best_floor * 1000:8.1f} ms")
    print(f"handover build:                    {best_handover * 1000:8.1f} ms")
    print(f"ratio handover / floor:            {best_handover / best_floor:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--changes-each", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-base", default=os.environ.get("SITCEN_TEST_DATABASE_BASE"))
    args = parser.parse_args()

    from app import localdb
    from app.db import upgrade_database

    base = args.database_base or localdb.ensure_cluster(
        PROJECT_ROOT / ".local", int(os.environ.get("SITCEN_LOCAL_PG_PORT", "54329"))
    )
    localdb.drop_database(base, DATABASE)
    url = localdb.ensure_database(base, DATABASE)
    try:
        upgrade_database(url)
        asyncio.run(run(url, args.objects, args.changes_each, args.rounds))
    finally:
        localdb.drop_database(base, DATABASE)


if __name__ == "__main__":
    main()
