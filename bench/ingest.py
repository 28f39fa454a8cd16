"""Ingest benchmark (issues 3 and 19): creates through the HTTP API beside their floors,
bulk creates beside a raw batched INSERT, bbox lists.

Run: .venv/bin/python bench/ingest.py [--creates 20000] [--clients 16] [--total 100000]
         [--bulk-rows 10000] [--bulk-clients 2]
Starts its own database on the project-local cluster and one uvicorn worker; prints figures.

Floors, in the same run, on the same database and machine (docs/performance.md):
- single creates: bench/floor_app.py, a minimal FastAPI endpoint on the same uvicorn settings
  doing one asyncpg INSERT … RETURNING per request, posted to by the same client processes.
  Target: sitcen >= 0.5x its rate.
- bulk creates (POST of FeatureCollections of 1,000): asyncpg executemany of the same rows in
  batches of 1,000 on as many connections as there are bulk clients. Target: >= 0.3x.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from procstat import cpu_seconds, database_cpu_seconds, machine_speed  # noqa: E402

from app import devserver, localdb  # noqa: E402
from app.db import upgrade_database  # noqa: E402
from app.domain.base import uuid7  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "data" / "brussels"
BBOX = (4.28, 50.79, 4.44, 50.89)  # inside the region
CATEGORIES = ["fire", "traffic", "public_order", "health", "utility_outage", "other"]
SEVERITIES = ["minor", "moderate", "severe", "extreme"]


RAW_INSERT = """INSERT INTO incidents (id, ref, version, title, visibility, exercise, source,
             external_id, municipality_codes, police_zone_codes, areas, created_at, created_by,
             updated_at, updated_by, geom, category, severity, status, reported_at)
             VALUES ($1, $2, 1, $3, 'internal', false, 'raw', $4, ARRAY['21004'], ARRAY['5339'],
                     '{}'::jsonb, now(), 'bench', now(), 'bench',
                     ST_SetSRID(ST_MakePoint($5, $6), 4326), $7, $8, 'reported', now())"""


def body(rng: random.Random, i: int) -> dict:
    return {
        "type": "Feature",
        "geometry": {
            "type": "Point",
            "coordinates": [rng.uniform(BBOX[0], BBOX[2]), rng.uniform(BBOX[1], BBOX[3])],
        },
        "properties": {
            "title": f"Bench incident {i}",
            "category": rng.choice(CATEGORIES),
            "severity": rng.choice(SEVERITIES),
            "external_id": f"bench-{i}",
        },
    }


def client_process(
    url: str, key: str, start: int, count: int, concurrency: int, out: multiprocessing.Queue
) -> None:
    uvloop.run(_client(url, key, start, count, concurrency, out))


async def _client(
    url: str, key: str, start: int, count: int, concurrency: int, out: multiprocessing.Queue
) -> None:
    """One load-generating process. It posts with the service's own lean HTTP client (the one
    webhooks use): httpx costs several milliseconds of CPU per request, and a load generator
    that eats the CPU the server needs would measure itself."""
    from app.alerts.channels.http import WebhookClient

    rng = random.Random(start)
    latencies: list[float] = []
    errors = 0
    counter = iter(range(start, start + count))
    client = WebhookClient(max_idle=concurrency)
    headers = {"X-API-Key": key, "Content-Type": "application/json"}

    async def worker() -> None:
        nonlocal errors
        for i in counter:
            payload = json.dumps(body(rng, i)).encode()
            t = time.perf_counter()
            status = await client.post(url + "/api/incidents", headers, payload)
            latencies.append(time.perf_counter() - t)
            if status != 201:
                errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await client.aclose()
    out.put((latencies, errors))


def run_clients(
    url: str, key: str, first: int, creates: int, processes: int, clients: int
) -> tuple[float, list[float], int]:
    """`creates` single creates posted to `url` by `processes` processes of `clients` in all:
    the elapsed time, every latency, the errors."""
    out: multiprocessing.Queue = multiprocessing.Queue()
    per = creates // processes
    procs = [
        multiprocessing.Process(
            target=client_process,
            args=(url, key, first + p * per, per, clients // processes, out),
        )
        for p in range(processes)
    ]
    t = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t
    return elapsed, [x for lat, _ in results for x in lat], sum(e for _, e in results)


def verdict(measured: float, floor: float, target: float) -> str:
    """`ratio r (target >= t): PASS|MISS`, higher is better."""
    r = measured / floor if floor > 0 else 0.0
    return f"ratio {r:.2f} (target >= {target}): {'PASS' if r >= target else 'MISS'}"


async def bulk_sitcen(api: str, key: str, rows: int, clients: int, batch: int) -> dict:
    """`rows` incidents posted as FeatureCollections of `batch`, `clients` requests at a time."""
    rng = random.Random(7)
    batches = iter(range(0, rows, batch))
    created = refused = 0
    latencies: list[float] = []
    headers = {"X-API-Key": key}

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal created, refused
        for start in batches:
            features = [body(rng, 10_000_000 + i) for i in range(start, start + batch)]
            payload = json.dumps({"type": "FeatureCollection", "features": features})
            t = time.perf_counter()
            r = await http.post(
                "/api/incidents",
                content=payload,
                headers={**headers, "Content-Type": "application/json"},
            )
            latencies.append(time.perf_counter() - t)
            r.raise_for_status()
            answer = r.json()
            created += answer["created"]
            refused += answer["refused"]

    async with httpx.AsyncClient(base_url=api, timeout=600) as http:
        t = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(clients)))
        elapsed = time.perf_counter() - t
    return {"created": created, "refused": refused, "elapsed": elapsed, "latencies": latencies}


async def bulk_floor(url: str, rows: int, clients: int, batch: int) -> float:
    """The same rows by asyncpg executemany, `batch` rows per call, `clients` connections."""
    pool = await asyncpg.create_pool(url, min_size=clients, max_size=clients)
    rng = random.Random(8)
    batches = iter(range(0, rows, batch))

    async def worker() -> None:
        async with pool.acquire() as conn:
            for start in batches:
                await conn.executemany(
                    RAW_INSERT,
                    [
                        (
                            uuid7(),
                            f"BULK-{i}",
                            f"Bulk {i}",
                            f"bulk-{i}",
                            rng.uniform(BBOX[0], BBOX[2]),
                            rng.uniform(BBOX[1], BBOX[3]),
                            rng.choice(CATEGORIES),
                            rng.choice(SEVERITIES),
                        )
                        for i in range(start, start + batch)
                    ],
                )

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - t
    await pool.close()
    return rows / elapsed


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


async def raw_floor(url: str, rows: int, concurrency: int) -> float:
    """Plain INSERTs of equivalent incident rows, one per statement, `concurrency` connections."""
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency)
    rng = random.Random(1)
    now = time.time()
    sql = RAW_INSERT
    it = iter(range(rows))

    async def worker() -> None:
        async with pool.acquire() as conn:
            for i in it:
                await conn.execute(
                    sql,
                    uuid7(),
                    f"RAW-{i}",
                    f"Raw {i}",
                    f"raw-{i}",
                    rng.uniform(BBOX[0], BBOX[2]),
                    rng.uniform(BBOX[1], BBOX[3]),
                    rng.choice(CATEGORIES),
                    rng.choice(SEVERITIES),
                )

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t
    await pool.close()
    return rows / elapsed, now


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--creates", type=int, default=20_000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--total", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument(
        "--durable",
        action="store_true",
        help="keep synchronous_commit on in the bench database (commits wait for the disk)",
    )
    ap.add_argument("--bulk-rows", type=int, default=10_000, help="rows of the bulk creates")
    ap.add_argument("--bulk-clients", type=int, default=2, help="bulk requests at a time")
    ap.add_argument("--profile", help="write a cProfile of the sitcen server to this file")
    args = ap.parse_args()

    base = localdb.ensure_cluster(
        ROOT / ".local", int(os.environ.get("SITCEN_LOCAL_PG_PORT", "54329"))
    )
    localdb.drop_database(base, "sitcen_bench")
    url = localdb.ensure_database(base, "sitcen_bench")
    upgrade_database(url)
    if not args.durable:
        # As bench/ws_fanout.py: every write here commits through the feed's one counter, so
        # waiting for the disk at each commit (a disk shared with everything else on this
        # machine) would measure the disk. Same setting for sitcen and for its floors.
        asyncio.run(_no_synchronous_commit(base, "sitcen_bench"))
    secret = secrets.token_urlsafe(48)
    env = {**os.environ, "SITCEN_DATABASE_URL": url, "SITCEN_SECRET_KEY": secret}
    env.pop("SITCEN_LOCAL_MODE", None)
    subprocess.run(
        [sys.executable, "-m", "app.cli", "reference", "load", str(REFERENCE)],
        env=env,
        check=True,
        capture_output=True,
    )
    key_out = subprocess.run(
        [sys.executable, "-m", "app.cli", "apikey", "create", "bench", "--role", "dispatch"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = key_out.stdout.strip().splitlines()[-1]
    # bbox reads as an operator: a dispatch key would only see its own rows.
    password = secrets.token_urlsafe(16)
    subprocess.run(
        [sys.executable, "-m", "app.cli", "user", "create", "bench-op", "--role", "operator"],
        env={**env, "SITCEN_PASSWORD": password},
        check=True,
        capture_output=True,
    )
    port = 18000 + os.getpid() % 1000
    profile = ["-m", "cProfile", "-o", args.profile] if args.profile else []
    server = devserver.start(port, env, python_args=profile, timeout=240)
    api = f"http://127.0.0.1:{port}"
    try:
        print(
            f"== {args.creates} creates through the API, {args.clients} concurrent clients in "
            f"{args.processes} processes, one uvicorn worker, {os.cpu_count()} CPUs, load "
            f"average {os.getloadavg()[0]:.2f}; synchronous_commit "
            f"{'on' if args.durable else 'off'}"
        )
        speed = machine_speed()
        cpu_before = cpu_seconds(server.pid)
        db_before = database_cpu_seconds()
        elapsed, latencies, errors = run_clients(
            api, key, 0, args.creates, args.processes, args.clients
        )
        server_cpu = cpu_seconds(server.pid) - cpu_before
        db_cpu = database_cpu_seconds() - db_before
        api_rate = len(latencies) / elapsed
        print(
            f"API creates: {len(latencies)} in {elapsed:.1f} s = {api_rate:.0f}/s; "
            f"errors {errors}; latency p50 {pct(latencies, 50) * 1000:.1f} ms, "
            f"p95 {pct(latencies, 95) * 1000:.1f} ms, p99 {pct(latencies, 99) * 1000:.1f} ms"
        )
        # CPU per create is the figure that survives a busy machine; the rate does not.
        print(
            f"server CPU: {server_cpu * 1000 / max(1, len(latencies)):.2f} ms per create "
            f"({server_cpu / elapsed:.0%} of one core); PostgreSQL "
            f"{db_cpu * 1000 / max(1, len(latencies)):.2f} ms per create "
            f"({db_cpu / elapsed:.0%} of one core); load average "
            f"{os.getloadavg()[0]:.2f} at the end; machine speed {speed:.0f} ms "
            "(a fixed loop before the run: lower is faster)"
        )

        floor_port = port + 1
        floor = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "floor_app.py"), "--port", str(floor_port)],
            env=env,
        )
        try:
            _wait_healthy(f"http://127.0.0.1:{floor_port}/api/health", floor)
            floor_cpu = cpu_seconds(floor.pid)
            f_elapsed, f_latencies, f_errors = run_clients(
                f"http://127.0.0.1:{floor_port}",
                key,
                args.creates,
                args.creates,
                args.processes,
                args.clients,
            )
            floor_cpu = cpu_seconds(floor.pid) - floor_cpu
        finally:
            floor.terminate()
            floor.wait(10)
        floor_rate = len(f_latencies) / f_elapsed
        print(
            f"floor, a bare FastAPI endpoint with one asyncpg INSERT … RETURNING: "
            f"{len(f_latencies)} in {f_elapsed:.1f} s = {floor_rate:.0f}/s; errors {f_errors}; "
            f"p50 {pct(f_latencies, 50) * 1000:.1f} ms, p95 {pct(f_latencies, 95) * 1000:.1f} ms; "
            f"server CPU {floor_cpu * 1000 / max(1, len(f_latencies)):.2f} ms per create"
        )
        print(
            f"TARGET single creates: floor {floor_rate:.0f}/s, sitcen {api_rate:.0f}/s, "
            + verdict(api_rate, floor_rate, 0.5)
        )

        plain = "postgresql://" + url.split("://", 1)[1]
        bulk = asyncio.run(bulk_sitcen(api, key, args.bulk_rows, args.bulk_clients, BULK_BATCH))
        bulk_rate = bulk["created"] / bulk["elapsed"]
        print(
            f"API bulk creates: {bulk['created']} created ({bulk['refused']} refused) in "
            f"{bulk['elapsed']:.1f} s = {bulk_rate:.0f}/s, FeatureCollections of {BULK_BATCH}, "
            f"{args.bulk_clients} at a time; a request p50 "
            f"{pct(bulk['latencies'], 50):.2f} s"
        )
        bulk_floor_rate = asyncio.run(
            bulk_floor(plain, args.bulk_rows, args.bulk_clients, BULK_BATCH)
        )
        print(
            f"floor, asyncpg executemany of the same rows ({BULK_BATCH} per call, "
            f"{args.bulk_clients} connections): {bulk_floor_rate:.0f} rows/s"
        )
        print(
            f"TARGET bulk creates: floor {bulk_floor_rate:.0f}/s, sitcen {bulk_rate:.0f}/s, "
            + verdict(bulk_rate, bulk_floor_rate, 0.3)
        )

        fill = max(0, args.total - 2 * args.creates - args.bulk_rows * 2)
        raw_rate, _ = asyncio.run(raw_floor(plain, fill or 5000, args.clients))
        print(
            f"raw asyncpg INSERT floor: {raw_rate:.0f} rows/s "
            f"({fill or 5000} rows, {args.clients} connections); "
            f"API/raw ratio {api_rate / raw_rate:.2f}"
        )

        asyncio.run(_analyze(plain))
        rng = random.Random(3)
        timings = []
        token = httpx.post(
            api + "/api/auth/token", data={"username": "bench-op", "password": password}
        ).json()["access_token"]
        with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}) as client:
            for _ in range(args.queries):
                size = rng.choice([0.005, 0.01, 0.02, 0.05])
                x, y = rng.uniform(BBOX[0], BBOX[2] - size), rng.uniform(BBOX[1], BBOX[3] - size)
                t = time.perf_counter()
                r = client.get(
                    "/api/incidents",
                    params={"bbox": f"{x},{y},{x + size},{y + size}", "limit": 100},
                )
                timings.append(time.perf_counter() - t)
                assert r.status_code == 200
        total = asyncio.run(_count(plain))
        print(
            f"bbox list (limit 100) with {total} incidents: p50 {pct(timings, 50) * 1000:.1f} ms, "
            f"p95 {pct(timings, 95) * 1000:.1f} ms (target <= 50 ms), "
            f"max {max(timings) * 1000:.1f} ms "
            f"over {len(timings)} queries"
        )
        print(
            json.dumps(
                {
                    "api_creates_per_s": round(api_rate),
                    "floor_endpoint_per_s": round(floor_rate),
                    "single_ratio": round(api_rate / floor_rate, 2),
                    "bulk_creates_per_s": round(bulk_rate),
                    "bulk_floor_per_s": round(bulk_floor_rate),
                    "bulk_ratio": round(bulk_rate / bulk_floor_rate, 2),
                    "raw_inserts_per_s": round(raw_rate),
                    "ratio": round(api_rate / raw_rate, 2),
                    "bbox_p95_ms": round(pct(timings, 95) * 1000, 1),
                    "rows": total,
                }
            )
        )
    finally:
        # SIGINT: uvicorn shuts down gracefully and a profiler around it gets to write.
        server.send_signal(signal.SIGINT)
        server.wait(60)


BULK_BATCH = 1000


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the floor endpoint exited")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the floor endpoint did not answer")


async def _no_synchronous_commit(base: str, name: str) -> None:
    conn = await asyncpg.connect(base + "/postgres")
    await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    await conn.close()


async def _analyze(url: str) -> None:
    conn = await asyncpg.connect(url)
    await conn.execute("ANALYZE incidents")
    await conn.close()


async def _count(url: str) -> int:
    conn = await asyncpg.connect(url)
    n = await conn.fetchval("SELECT count(*) FROM incidents")
    await conn.close()
    return int(n)


if __name__ == "__main__":
    main()
