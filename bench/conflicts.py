"""Deconfliction over a year of objects: the conflicts list of the generated 2024, ten times over.

    .venv/bin/python bench/conflicts.py --copies 10 --rounds 5
    SITCEN_TEST_DATABASE_BASE=postgresql://postgres@127.0.0.1:5432 \
        .venv/bin/python bench/conflicts.py

Makes a database of its own (SITCEN_TEST_DATABASE_BASE, or the project-local PostGIS cluster),
loads the reference layers and the generated year 2024 (app.demo_year: the published figures'
planned events, demonstrations and zones, through the write path), then copies its planned
events, demonstrations and zones by SQL `--copies - 1` more times, each copy shifted a few days
later and some 60 m further per copy (a busier year, not the same objects stacked), and sets
what the year ended back to planned (the year as it was planned, before each day). Times, in
the same run:
- the whole list as GET /api/conflicts reads it (app.domain.conflict.find, every page of 1,000
  for the year, each conflict made a Feature and serialised): what the route does but HTTP;
- the floor: the bare SQL of the same six joins by asyncpg, on the same indexed conditions and
  live objects, answering the pairs' ids only (no intersection, area, digest, record or order).
Prints the medians, the conflicts found and the ratio. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from procstat import machine_speed  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app import localdb  # noqa: E402
from app.cli import load_reference  # noqa: E402
from app.db import driver, make_engine, make_sessionmaker, upgrade_database  # noqa: E402
from app.demo_year import load_year  # noqa: E402
from app.domain import conflict  # noqa: E402
from app.domain.visibility import Scope  # noqa: E402
from app.settings import Settings  # noqa: E402

REFERENCE = PROJECT_ROOT.parent / "shared" / "data" / "brussels"
YEAR = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
COMMON = (
    "version, title, description, visibility, shared_with, exercise, source, "
    "municipality_codes, police_zone_codes, areas, created_at, created_by, updated_at, updated_by"
)
# Copy k of every object: a new id and reference, k × 3 days later, k × (40 m, -45 m) away.
COPY = {
    "planned_events": ("kind, status, venue, expected_attendance, risk_level, organiser, "
                       "objectives, participants", "starts_at", "ends_at"),
    "demonstrations": ("organiser, expected_participants, authorisation, status",
                       "starts_at", "ends_at"),
    "zones": ("kind, status, parent_entity, parent_id", "valid_from", "valid_to"),
}  # fmt: skip
# The floor: the same six joins on the same indexed conditions, over the same live objects,
# answering only the pairs' ids (no exclusions of parents, no intersection, area, digest,
# records or ordering).
LIVE = {
    "planned_events": ("starts_at", "ends_at", "status NOT IN ('ended', 'cancelled')"),
    "demonstrations": (
        "starts_at",
        "ends_at",
        "status NOT IN ('ended', 'cancelled') AND authorisation <> 'refused'",
    ),
    "zones": ("valid_from", "valid_to", "status = 'active' AND kind <> 'hotspot'"),
}


def _floor_sql() -> str:
    tables = list(LIVE)
    joins = []
    for i, x in enumerate(tables):
        for y in tables[i:]:
            (xs, xe, xl), (ys, ye, yl) = LIVE[x], LIVE[y]
            xl, yl = (
                " AND ".join(f"{a}.{c.strip()}" for c in cond.split(" AND "))
                for a, cond in (("a", xl), ("b", yl))
            )
            joins.append(
                f"SELECT a.id, b.id FROM {x} a JOIN {y} b ON ST_Intersects(a.geom, b.geom)"
                f" AND tstzrange(a.{xs}, a.{xe}) && tstzrange(b.{ys}, b.{ye})"
                f"{' AND a.id < b.id' if x == y else ''}"
                f" WHERE {xl} AND {yl}"
                f" AND tstzrange(a.{xs}, a.{xe}) && tstzrange($1, $2)"
                f" AND tstzrange(b.{ys}, b.{ye}) && tstzrange($1, $2)"
            )
    return " UNION ALL ".join(joins)


FLOOR = _floor_sql()


async def fill(url: str, copies: int) -> dict[str, int]:
    engine = make_engine(Settings(database_url=url, secret_key="b" * 48))
    sessions = make_sessionmaker(engine)
    await load_reference(sessions, [str(REFERENCE)])
    await load_year(sessions, 2024)
    counts = {}
    async with sessions() as session:
        for table, (own, start, end) in COPY.items():
            shift = "(k * interval '3 days')"
            sql = f"""
                INSERT INTO {table} (id, ref, {COMMON}, {own}, {start}, {end}, geom)
                SELECT gen_random_uuid(), ref || '-' || k, {COMMON}, {own},
                       {start} + {shift}, {end} + {shift},
                       ST_Translate(geom, k * 0.00057, k * -0.0004)
                FROM {table}, generate_series(1, :copies) k
            """
            await session.execute(text(sql), {"copies": copies - 1})
            counts[table] = await session.scalar(text(f"SELECT count(*) FROM {table}"))
        # The year as a plan: what the generated 2024 ended (it lies in the past) is planned
        # again, so that its events take part in deconfliction as they did before the day.
        for table in ("planned_events", "demonstrations"):
            await session.execute(
                text(f"UPDATE {table} SET status = 'planned' WHERE status = 'ended'")
            )
        await session.commit()
        await session.execute(text("ANALYZE"))
    await engine.dispose()
    return counts


async def measure(url: str, rounds: int) -> None:
    engine = make_engine(Settings(database_url=url, secret_key="b" * 48))
    sessions = make_sessionmaker(engine)
    year = conflict.ConflictFilter(start=YEAR[0], end=YEAR[1])

    async def listed() -> int:
        found, offset, more = 0, 0, True
        async with sessions() as session:
            while more:
                page, more = await conflict.find(session, year, Scope(), 1000, offset)
                orjson.dumps({"type": "FeatureCollection", "features": [c.feature() for c in page]})
                found += len(page)
                offset += 1000
        return found

    async def floor() -> int:
        async with sessions() as session:
            return len(await (await driver(session)).fetch(FLOOR, *YEAR))

    timings: dict[str, list[float]] = {"list": [], "floor": []}
    sizes: dict[str, int] = {}
    for _ in range(rounds):
        for name, work in (("floor", floor), ("list", listed)):
            t0 = time.perf_counter()
            sizes[name] = await work()
            timings[name].append(time.perf_counter() - t0)
    await engine.dispose()
    lst, flr = (statistics.median(timings[k]) * 1000 for k in ("list", "floor"))
    print(f"conflicts listed for 2024: {sizes['list']} (the bare join: {sizes['floor']} pairs)")
    print(f"GET /api/conflicts (every page, Features, JSON): median {lst:.1f} ms over {rounds}")
    print(f"floor (bare asyncpg join, ids only): median {flr:.1f} ms")
    print(f"ratio: {lst / flr:.1f}x the floor")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--copies", type=int, default=10)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    base = os.environ.get("SITCEN_TEST_DATABASE_BASE") or localdb.ensure_cluster(
        PROJECT_ROOT / ".local", int(os.environ.get("SITCEN_LOCAL_PG_PORT", "54329"))
    )
    name = f"sitcen_bench_conflicts_{os.getpid()}"
    url = localdb.ensure_database(base, name)
    try:
        upgrade_database(url)
        counts = asyncio.run(fill(url, args.copies))
        print(f"objects: {counts} ({args.copies} copies of the generated 2024)")
        print(f"{os.cpu_count()}-core machine; machine speed {machine_speed():.0f} ms")
        asyncio.run(measure(url, args.rounds))
    finally:
        localdb.drop_database(base, name)


if __name__ == "__main__":
    main()
