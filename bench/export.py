"""CSV export of 100,000 incidents through the API (one uvicorn worker), beside PostgreSQL
writing the same rows as CSV itself (a bare asyncpg `COPY (SELECT …) TO STDOUT CSV`, the least
any CSV export of these rows can cost) in the same run; and the server's resident memory while
the export streams.

    .venv/bin/python bench/export.py --rows 100000 --rounds 3
    .venv/bin/python bench/export.py --database-base postgresql://postgres@127.0.0.1:5432

Starts its own database (the project-local PostGIS cluster, or the server given), loads the
reference layers and inserts the incidents with one SQL statement (a fixture: the bench
measures the export, not the write path). Prints, per round, the export's time and MB/s, the
COPY's, their ratio, and the server's RSS before and at its peak during the export (sampled
every 10 ms): an export that streams grows it by about one chunk, whatever the row count.
Figures, not pass/fail: the machine's other work moves them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import sys
import time
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from procstat import machine_speed, rss_mib  # noqa: E402

from app import devserver  # noqa: E402
from app.devserver import free_port  # noqa: E402

DATABASE = "sitcen_bench_export"
PASSWORD = "bench password, not a secret"
REFERENCE_DIR = PROJECT_ROOT.parent / "shared" / "data" / "brussels"
CATEGORIES = ("fire", "traffic", "public_order", "health", "flooding_storm", "threat")
SEVERITIES = ("minor", "moderate", "severe", "extreme")

# The incidents: spread over the region, every tenth with a title a spreadsheet would run (the
# export escapes it), areas as the write path derives them for the Grand-Place.
SEED = """
INSERT INTO incidents (id, ref, version, title, description, visibility, shared_with, exercise,
    source, external_id, municipality_codes, police_zone_codes, areas, created_at, created_by,
    updated_at, updated_by, geom, category, severity, status, place, occurred_at, reported_at)
SELECT gen_random_uuid(), 'INC-2026-' || lpad(n::text, 6, '0'), 1,
    CASE WHEN n % 10 = 0 THEN '=HYPERLINK("x") ' ELSE '' END || 'Incident ' || n,
    'Description de l''incident ' || n || ', signalé par le dispatching; suivi en cours.',
    'internal', '{}', false, 'bench', 'bench-' || n, $1::varchar[], $2::varchar[], $3::jsonb,
    now(), 'bench', now(), 'bench',
    ST_SetSRID(ST_MakePoint(4.30 + random() * 0.12, 50.80 + random() * 0.08), 4326),
    ($4::text[])[1 + n % 6], ($5::text[])[1 + n % 4], 'reported', 'Rue de la Loi ' || n,
    now() - n * interval '1 minute', now()
FROM generate_series(1, $6) AS n
"""
# The same rows, the same columns, as PostgreSQL writes CSV with nothing of the service.
COPY = """
COPY (SELECT id, ref, version, title, description, category, severity, status, place,
             occurred_at, reported_at, closed_at, areas -> 'municipality' ->> 'code',
             areas -> 'municipality' ->> 'name_fr', areas -> 'police_zone' ->> 'code',
             areas -> 'police_zone' ->> 'name_fr', visibility, shared_with, exercise, source,
             external_id, created_at, created_by, updated_at, updated_by, ST_AsText(geom),
             ST_X(geom), ST_Y(geom)
      FROM incidents ORDER BY id DESC) TO STDOUT WITH (FORMAT csv, HEADER)
"""


async def setup(url: str, secret: str, rows: int) -> None:
    import asyncpg
    from shapely.geometry import Point

    from app.auth.roles import Role
    from app.auth.service import create_user
    from app.cli import load_reference
    from app.db import make_engine, make_sessionmaker, transaction
    from app.geo.reference import areas_for
    from app.settings import Settings, plain_url

    engine = make_engine(Settings(database_url=url, secret_key=secret))
    sessions = make_sessionmaker(engine)
    await load_reference(sessions, [str(REFERENCE_DIR)])
    async with transaction(sessions) as session:
        await create_user(session, "bench-op", PASSWORD, Role.operator, actor="bench")
        areas = await areas_for(session, Point(4.3525, 50.8467))
    await engine.dispose()
    import orjson

    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute(
            SEED,
            [a["code"] for a in areas["municipalities"]],
            [a["code"] for a in areas["police_zones"]],
            orjson.dumps(areas).decode(),
            list(CATEGORIES),
            list(SEVERITIES),
            rows,
        )
        await conn.execute("ANALYZE incidents")
    finally:
        await conn.close()


async def sample_peak(pid: int, stop: asyncio.Event) -> float:
    peak = rss_mib(pid)
    while not stop.is_set():
        peak = max(peak, rss_mib(pid))
        await asyncio.sleep(0.01)
    return max(peak, rss_mib(pid))


async def through_api(api: str, pid: int) -> tuple[float, int, float, float]:
    """Seconds and bytes of the CSV export, the server's RSS before it and at its peak."""
    async with httpx.AsyncClient(base_url=api, timeout=600) as client:
        r = await client.post(
            "/api/auth/token", data={"username": "bench-op", "password": PASSWORD}
        )
        client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        # A small export first: what every export's first run loads (lxml, shapely's WKT
        # writer, the statement) is not counted as growth.
        r = await client.get("/api/exports/incidents", params={"format": "csv", "q": "1234"})
        assert r.status_code == 200, r.text
        before = rss_mib(pid)
        stop = asyncio.Event()
        peak = asyncio.create_task(sample_peak(pid, stop))
        started = time.perf_counter()
        size = 0
        async with client.stream("GET", "/api/exports/incidents", params={"format": "csv"}) as got:
            assert got.status_code == 200
            async for chunk in got.aiter_raw():
                size += len(chunk)
        elapsed = time.perf_counter() - started
        stop.set()
        return elapsed, size, before, await peak


async def plain_copy(url: str) -> tuple[float, int]:
    import asyncpg

    from app.settings import plain_url

    conn = await asyncpg.connect(plain_url(url))
    size = 0

    async def sink(data: bytes) -> None:
        nonlocal size
        size += len(data)

    try:
        started = time.perf_counter()
        await conn.copy_from_query(
            COPY.strip().removeprefix("COPY (").split(") TO STDOUT")[0],
            output=sink,
            format="csv",
            header=True,
        )
        return time.perf_counter() - started, size
    finally:
        await conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
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
    secret = secrets.token_urlsafe(48)
    asyncio.run(setup(url, secret, args.rows))
    env = {**os.environ, "SITCEN_DATABASE_URL": url, "SITCEN_SECRET_KEY": secret}
    env.pop("SITCEN_LOCAL_MODE", None)
    port = free_port()
    server = devserver.start(port, env)
    try:
        print(
            f"== CSV export of {args.rows} incidents, {args.rounds} rounds, one uvicorn worker, "
            f"{os.cpu_count()}-core machine; machine speed {machine_speed():.0f} ms "
            "(a fixed loop: lower is faster)"
        )
        best_api = best_copy = float("inf")
        growth = []
        for round_ in range(1, args.rounds + 1):
            elapsed, size, before, peak = asyncio.run(
                through_api(f"http://127.0.0.1:{port}", server.pid)
            )
            copy_elapsed, copy_size = asyncio.run(plain_copy(url))
            best_api, best_copy = min(best_api, elapsed), min(best_copy, copy_elapsed)
            growth.append(peak - before)
            print(
                f"round {round_}: export {elapsed:.2f} s, {size / 1e6:.1f} MB "
                f"({size / 1e6 / elapsed:.0f} MB/s); COPY {copy_elapsed:.2f} s, "
                f"{copy_size / 1e6:.1f} MB ({copy_size / 1e6 / copy_elapsed:.0f} MB/s); "
                f"ratio {elapsed / copy_elapsed:.1f}x; server RSS {before:.0f} MiB before, "
                f"{peak:.0f} MiB at peak (+{peak - before:.1f} MiB)"
            )
        print(
            f"best: export {best_api:.2f} s vs COPY {best_copy:.2f} s = "
            f"{best_api / best_copy:.1f}x the floor; server RSS growth during the export "
            f"max +{max(growth):.1f} MiB ({args.rows} rows)"
        )
    finally:
        server.terminate()
        server.wait(10)
        localdb.drop_database(base, DATABASE)


if __name__ == "__main__":
    main()
