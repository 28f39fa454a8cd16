"""Document throughput: a 100 MB file uploaded and downloaded through the API (one uvicorn
worker, the PostgreSQL store), beside a plain copy of the same bytes into PostgreSQL and back
(the same 1 MiB chunks, INSERTed and SELECTed on one asyncpg connection) in the same run.

    .venv/bin/python bench/documents.py --megabytes 100 --rounds 3
    .venv/bin/python bench/documents.py --database-base postgresql://postgres@127.0.0.1:5432

Starts its own database (the project-local PostGIS cluster, or the server given) and server.
Prints MB/s for each side, each round and the best, and the ratio API / plain (target: >= 0.5).
Figures, not pass/fail: the machine's other work moves them.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import secrets
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from procstat import machine_speed  # noqa: E402

from app import devserver  # noqa: E402
from app.devserver import free_port  # noqa: E402

DATABASE = "sitcen_bench_documents"
PASSWORD = "bench password, not a secret"
CHUNK = 1024 * 1024


def block(seed: int) -> bytes:
    """1 MiB that compresses as little as a real PDF's streams do."""
    return hashlib.shake_256(seed.to_bytes(8, "big")).digest(CHUNK)


async def body(total: int) -> AsyncIterator[bytes]:
    """`total` bytes starting as a PDF, made as they are sent (256 KiB pieces)."""
    data = b"%PDF-1.7\n" + block(0)[9:]
    sent = 0
    while sent < total:
        piece = data[: min(256 * 1024, total - sent)]
        sent += len(piece)
        yield piece


async def setup(url: str, secret: str) -> None:
    from app.auth.roles import Role
    from app.auth.service import create_user
    from app.db import make_engine, make_sessionmaker, transaction
    from app.settings import Settings

    engine = make_engine(Settings(database_url=url, secret_key=secret))
    async with transaction(make_sessionmaker(engine)) as session:
        await create_user(session, "bench-op", PASSWORD, Role.operator, actor="bench")
    await engine.dispose()


async def through_api(api: str, total: int) -> tuple[float, float]:
    """Seconds to upload, then to download, `total` bytes as a document."""
    async with httpx.AsyncClient(base_url=api, timeout=600) as client:
        r = await client.post(
            "/api/auth/token", data={"username": "bench-op", "password": PASSWORD}
        )
        client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        feature = {"type": "Feature", "geometry": None, "properties": {"title": "Bench"}}
        feature["properties"]["level"] = "coordination"
        subject = (await client.post("/api/activations", json=feature)).json()["id"]
        started = time.perf_counter()
        r = await client.post(
            "/api/documents",
            params={"subject_entity": "activation", "subject_id": subject, "filename": "b.pdf"},
            content=body(total),
        )
        assert r.status_code == 201, r.text
        upload = time.perf_counter() - started
        doc = r.json()["id"]
        started = time.perf_counter()
        size = 0
        async with client.stream("GET", f"/api/documents/{doc}/content") as got:
            async for chunk in got.aiter_raw():
                size += len(chunk)
        download = time.perf_counter() - started
        assert size == total, size
    return upload, download


async def plain_copy(url: str, total: int) -> tuple[float, float]:
    """Seconds to INSERT the same bytes as 1 MiB bytea rows in one transaction, then to read
    them back a row at a time: what PostgreSQL itself takes, with nothing of the service."""
    import asyncpg

    from app.settings import plain_url

    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_plain (n int PRIMARY KEY, data bytea NOT NULL)"
        )
        await conn.execute("ALTER TABLE bench_plain ALTER COLUMN data SET STORAGE EXTERNAL")
        await conn.execute("TRUNCATE bench_plain")
        data = b"%PDF-1.7\n" + block(0)[9:]
        chunks = [data[: min(CHUNK, total - i)] for i in range(0, total, CHUNK)]
        started = time.perf_counter()
        async with conn.transaction():
            for n, chunk in enumerate(chunks):
                await conn.execute("INSERT INTO bench_plain VALUES ($1, $2)", n, chunk)
        write = time.perf_counter() - started
        started = time.perf_counter()
        size = 0
        for n in range(len(chunks)):
            size += len(await conn.fetchval("SELECT data FROM bench_plain WHERE n = $1", n))
        read = time.perf_counter() - started
        assert size == total
    finally:
        await conn.close()
    return write, read


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--megabytes", type=int, default=100)
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
    asyncio.run(setup(url, secret))
    env = {**os.environ, "SITCEN_DATABASE_URL": url, "SITCEN_SECRET_KEY": secret}
    env.pop("SITCEN_LOCAL_MODE", None)
    port = free_port()
    server = devserver.start(port, env)
    total = args.megabytes * 1_000_000
    mb = total / 1e6
    try:
        print(
            f"== {args.megabytes} MB, {args.rounds} rounds, one uvicorn worker, "
            f"{os.cpu_count()}-core machine; machine speed {machine_speed():.0f} ms "
            "(a fixed loop: lower is faster)"
        )
        best = {"api up": 0.0, "api down": 0.0, "plain up": 0.0, "plain down": 0.0}
        for round_ in range(1, args.rounds + 1):
            up, down = asyncio.run(through_api(f"http://127.0.0.1:{port}", total))
            write, read = asyncio.run(plain_copy(url, total))
            figures = {
                "api up": mb / up,
                "api down": mb / down,
                "plain up": mb / write,
                "plain down": mb / read,
            }
            for key, value in figures.items():
                best[key] = max(best[key], value)
            print(
                f"round {round_}: upload {figures['api up']:.0f} MB/s "
                f"(plain INSERT {figures['plain up']:.0f} MB/s), download "
                f"{figures['api down']:.0f} MB/s (plain SELECT {figures['plain down']:.0f} MB/s)"
            )
        up_ratio = best["api up"] / best["plain up"]
        down_ratio = best["api down"] / best["plain down"]
        print(
            f"best: upload {best['api up']:.0f} MB/s vs plain {best['plain up']:.0f} MB/s "
            f"= {up_ratio:.2f}x; download {best['api down']:.0f} MB/s vs plain "
            f"{best['plain down']:.0f} MB/s = {down_ratio:.2f}x"
        )
        met = up_ratio >= 0.5 and down_ratio >= 0.5
        print(f"target >= 0.5x on both: {'met' if met else 'NOT met'}")
    finally:
        server.terminate()
        server.wait(10)
        localdb.drop_database(base, DATABASE)


if __name__ == "__main__":
    main()
