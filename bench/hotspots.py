"""Hotspot fiches over a large picture: 17 hotspots among 100,000 incidents spread over two
years of the region, some of them inside the hotspots.

    .venv/bin/python bench/hotspots.py --incidents 100000 --rounds 5
    .venv/bin/python bench/hotspots.py --database-base postgresql://postgres@127.0.0.1:5432

Starts its own database (the project-local PostGIS cluster, or the server given) and fills it
by SQL (the setup is not what is measured). Times, in-process and in the same run:
- the comparison (app.reports.hotspots.comparison: 12 weeks and the 12 before, per Brussels
  week, measures and tasks) beside its floor, one bare asyncpg query counting the incidents of
  each hotspot over the same 24 weeks (no weeks, no scope, no ORM);
- one fiche's PDF (chart drawn by matplotlib, printed by WeasyPrint) beside the floor of
  WeasyPrint printing the same HTML without the chart.
Prints each side's best and median and the ratios. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from procstat import machine_speed  # noqa: E402

DATABASE = "sitcen_bench_hotspots"
HOTSPOTS = 17
HALF = 0.0015  # a hotspot about 200 m across
TODAY = date(2026, 6, 30)

FILL = """
INSERT INTO incidents (id, ref, version, title, visibility, shared_with, exercise,
    municipality_codes, police_zone_codes, areas, created_at, created_by, updated_at,
    updated_by, category, severity, status, occurred_at, reported_at, geom)
SELECT gen_random_uuid(), 'INC-B-' || n, 1, 'Incident ' || n, 'internal', '{}', false,
    '{}', '{}', '{}'::jsonb, t, 'bench', t, 'bench', 'public_order', 'minor', 'reported', t, t,
    ST_SetSRID(ST_MakePoint(4.30 + random() * 0.12, 50.80 + random() * 0.08), 4326)
FROM generate_series(1, $1) n,
    LATERAL (SELECT $2::timestamptz - random() * interval '730 days' AS t) w
"""
HOTSPOT = """
INSERT INTO zones (id, ref, version, title, visibility, shared_with, exercise,
    municipality_codes, police_zone_codes, areas, created_at, created_by, updated_at,
    updated_by, kind, status, geom)
VALUES (gen_random_uuid(), 'ZON-B-' || $1::text, 1, 'Hotspot ' || $1, 'internal', '{}', false, '{}',
    '{}', '{}'::jsonb, now(), 'bench', now(), 'bench', 'hotspot', 'active',
    ST_MakeEnvelope($2::float8 - $4::float8, $3::float8 - $4, $2 + $4, $3 + $4, 4326))
"""
FLOOR = """
SELECT z.id, count(i.id) FROM zones z
JOIN incidents i ON ST_Intersects(i.geom, z.geom)
WHERE z.kind = 'hotspot' AND i.occurred_at >= $1 AND i.occurred_at < $2
GROUP BY z.id
"""


async def fill(dsn: str, incidents: int) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        for n in range(HOTSPOTS):
            lon, lat = 4.31 + (n % 6) * 0.018, 50.81 + (n // 6) * 0.025
            await connection.execute(HOTSPOT, str(n), lon, lat, HALF)
        end = datetime.combine(TODAY, datetime.min.time(), UTC)
        await connection.execute(FILL, incidents, end)
        await connection.execute("ANALYZE incidents; ANALYZE zones")
    finally:
        await connection.close()


async def timed(fn: Callable[[], Awaitable[Any]], rounds: int) -> list[float]:
    await fn()  # warm: caches, prepared statements, fonts
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - started)
    return times


async def measure(url: str, dsn: str, rounds: int) -> None:
    import asyncpg

    from app.db import make_engine, make_sessionmaker
    from app.domain.enums import Language
    from app.domain.visibility import Scope
    from app.reports import hotspot_exports, hotspots
    from app.settings import Settings

    engine = make_engine(Settings(database_url=url, secret_key="bench-" + "x" * 40))
    sessions = make_sessionmaker(engine)
    period = hotspots.period_of(None, TODAY, TODAY)
    at = datetime.combine(TODAY, datetime.min.time(), UTC)

    async def comparison() -> dict[str, Any]:
        async with sessions() as session:
            return await hotspots.comparison(session, period, Scope(), at)

    connection = await asyncpg.connect(dsn)
    start = period.previous.start
    end = period.end

    async def floor() -> list[Any]:
        return await connection.fetch(FLOOR, start, end)

    data = await comparison()
    inside = sum(h["current"] + h["previous"] for h in data["hotspots"])
    ours = await timed(comparison, rounds)
    bare = await timed(floor, rounds)
    await connection.close()

    first = data["hotspots"][0]["id"]
    async with sessions() as session:
        fiche = await hotspots.fiche(session, uuid.UUID(first), period, Scope(), at)
    context = hotspot_exports.fiche_context(fiche, Language.fr)
    plain_html = (
        hotspot_exports._environment().get_template("hotspot.html").render(**context, chart="")
    )

    async def pdf() -> bytes:
        return await hotspot_exports.fiche_pdf(context)

    async def pdf_floor() -> bytes:
        from app import cpu

        return await cpu.run(hotspot_exports._pdf, plain_html)

    printed = await timed(pdf, rounds)
    printed_floor = await timed(pdf_floor, rounds)
    await engine.dispose()

    def line(name: str, times: list[float]) -> str:
        best, median = min(times) * 1000, statistics.median(times) * 1000
        return f"{name}: best {best:.1f} ms, median {median:.1f} ms"

    print(f"{inside} incidents inside the hotspots over the 24 weeks")
    print(line("comparison (weekly, 17 hotspots, 2 x 12 weeks)", ours))
    print(line("floor: one bare count per hotspot (asyncpg)", bare))
    print(f"ratio comparison / floor: {min(ours) / min(bare):.2f}x (best against best)")
    print(line("fiche PDF with its matplotlib chart", printed))
    print(line("floor: WeasyPrint, the same HTML without the chart", printed_floor))
    print(f"ratio PDF / floor: {min(printed) / min(printed_floor):.2f}x (best against best)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--incidents", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--database-base", default=None, help="a PostgreSQL server's URL")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    from app import localdb
    from app.db import upgrade_database

    base = args.database_base or localdb.ensure_cluster(
        PROJECT_ROOT / ".local", int(os.environ.get("SITCEN_LOCAL_PG_PORT", "54329"))
    )
    localdb.drop_database(base, DATABASE)
    url = localdb.ensure_database(base, DATABASE)
    upgrade_database(url)
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        print(
            f"== {args.incidents} incidents, {HOTSPOTS} hotspots, {args.rounds} rounds, "
            f"{os.cpu_count()}-core machine; machine speed {machine_speed():.0f} ms "
            "(a fixed loop: lower is faster)"
        )
        started = time.perf_counter()
        asyncio.run(fill(dsn, args.incidents))
        print(f"filled in {time.perf_counter() - started:.1f} s")
        asyncio.run(measure(url, dsn, args.rounds))
    finally:
        localdb.drop_database(base, DATABASE)


if __name__ == "__main__":
    main()
