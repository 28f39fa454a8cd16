"""Annual figures benchmark: the whole table of a busy year, against the least work possible.

    .venv/bin/python bench/stats.py --incidents 100000

Makes a database of its own (SITCEN_TEST_DATABASE_BASE, or the project-local PostGIS
cluster), fills one year with N incidents and a tenth as many planned events, demonstrations
and activations by plain SQL (this measures the reading, not the write path), then times
`stats.annual_figures` (every figure, month, municipality, alert and alarm test) beside the
floor: one bare `count(*)` of the year's rows in each of the four tables. Prints the medians
of a few runs and their ratio. Figures, not pass/fail.
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

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from sqlalchemy import text  # noqa: E402

from app import localdb  # noqa: E402
from app.db import make_engine, make_sessionmaker, upgrade_database  # noqa: E402
from app.reports import stats  # noqa: E402
from app.settings import Settings  # noqa: E402

YEAR = 2024
COMMON = (
    "ref, version, title, visibility, shared_with, exercise, municipality_codes, "
    "police_zone_codes, areas, created_at, created_by, updated_at, updated_by"
)
# Common values for row g; :n is the row count. Municipalities cycle through the 19.
VALUES = (
    "'{p}-' || g, 1, 'bench ' || g, 'internal', '{{}}', g % 50 = 0, "
    "ARRAY['210' || lpad((1 + g % 19)::text, 2, '0')], '{{}}', '{{}}', now(), 'bench', now(), "
    "'bench'"
)
# When row g starts: spread over the year (Brussels), a little past either end.
WHEN = "timestamptz '2024-01-01 00:00 Europe/Brussels' + (g * interval '1 year' / :n)"
FILL = {
    "incidents": (
        "INSERT INTO incidents (id, category, severity, status, occurred_at, reported_at, "
        f"{COMMON}) "
        "SELECT gen_random_uuid(), (ARRAY['fire','traffic','public_order','health'])[1 + g % 4], "
        "(ARRAY['minor','moderate','severe','extreme'])[1 + g % 4], 'closed', "
        f"{WHEN}, {WHEN}, {VALUES.format(p='I')} FROM generate_series(1, :n) g"
    ),
    "planned_events": (
        f"INSERT INTO planned_events (id, kind, status, starts_at, ends_at, risk_level, {COMMON}) "
        "SELECT gen_random_uuid(), (ARRAY['festival','summit','delegation_visit','exercise',"
        f"'mass_event'])[1 + g % 5], 'ended', {WHEN}, {WHEN} + interval '3 hours', 'medium', "
        f"{VALUES.format(p='E')} FROM generate_series(1, :n) g"
    ),
    "demonstrations": (
        f"INSERT INTO demonstrations (id, starts_at, ends_at, authorisation, status, {COMMON}) "
        f"SELECT gen_random_uuid(), {WHEN}, {WHEN} + interval '3 hours', 'authorised', 'ended', "
        f"{VALUES.format(p='D')} FROM generate_series(1, :n) g"
    ),
    "activations": (
        "INSERT INTO activations (id, level, coordinator, status, opened_at, members, "
        f"{COMMON}) SELECT gen_random_uuid(), 'coordination', "
        "(ARRAY['sitcen','high_official'])[1 + g % 2], 'closed', "
        f"{WHEN}, '{{}}', {VALUES.format(p='A')} FROM generate_series(1, :n) g"
    ),
}
START = {
    "incidents": "coalesce(occurred_at, reported_at)",
    "planned_events": "starts_at",
    "demonstrations": "starts_at",
    "activations": "opened_at",
}


async def run(url: str, incidents: int, rounds: int) -> None:
    engine = make_engine(Settings(database_url=url, secret_key="b" * 48))
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        for table, sql in FILL.items():
            n = incidents if table == "incidents" else max(incidents // 10, 1)
            await session.execute(text(sql), {"n": n})
        await session.commit()
        await session.execute(text("ANALYZE"))

    now = datetime(2026, 12, 7, tzinfo=UTC)
    bounds = stats.window(YEAR, now)
    floor_sql = " UNION ALL ".join(
        f"SELECT count(*) FROM {t} WHERE {c} >= :a AND {c} < :b" for t, c in START.items()
    )

    async def figures() -> None:
        async with sessions() as session:
            await stats.annual_figures(session, YEAR, now=now)

    async def floor() -> None:
        async with sessions() as session:
            await session.execute(text(floor_sql), {"a": bounds.start, "b": bounds.end})

    timings: dict[str, list[float]] = {"figures": [], "floor": []}
    for _ in range(rounds):
        for name, work in (("floor", floor), ("figures", figures)):
            t0 = time.perf_counter()
            await work()
            timings[name].append(time.perf_counter() - t0)
    parts = {}
    for name in ("_by_series", "_activations", "_events_by_kind", "_incidents", "_alerts"):
        async with sessions() as session:
            t0 = time.perf_counter()
            await getattr(stats, name)(session, bounds)
            parts[name] = round((time.perf_counter() - t0) * 1000, 1)
    await engine.dispose()
    print(f"parts (ms): {parts}")
    f, b = (statistics.median(timings[k]) * 1000 for k in ("figures", "floor"))
    total = incidents + 3 * max(incidents // 10, 1)
    print(f"rows in the year: {total} ({incidents} incidents, a tenth as many of each other kind)")
    print(f"annual_figures (whole table): median {f:.1f} ms over {rounds} runs")
    print(f"floor (bare count of the year's rows, 4 tables): median {b:.1f} ms")
    print(f"ratio: {f / b:.1f}x the floor")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--incidents", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    base = os.environ.get("SITCEN_TEST_DATABASE_BASE") or localdb.ensure_cluster(
        PROJECT_ROOT / ".local", int(os.environ.get("SITCEN_LOCAL_PG_PORT", "54329"))
    )
    name = f"sitcen_bench_stats_{os.getpid()}"
    url = localdb.ensure_database(base, name)
    try:
        upgrade_database(url)
        asyncio.run(run(url, args.incidents, args.rounds))
    finally:
        localdb.drop_database(base, name)


if __name__ == "__main__":
    main()
