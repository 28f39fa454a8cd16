"""OGC API – Features items: sitcen (app/api/features.py) beside tipg, a peer OGC API server for
PostGIS, on the same table, the same PostgreSQL and the same machine, in the same run.

    python3 -m venv /tmp/tipg-venv && /tmp/tipg-venv/bin/pip install tipg uvicorn
    .venv/bin/python bench/ogc.py [--tipg-python /tmp/tipg-venv/bin/python] [--incidents 20000]
        [--pages 10,100,1000] [--requests 200] [--concurrency 8] [--tiles]

tipg is not a dependency of the project: it lives in a venv of its own (its pins are not the
project's), and this script starts it as `python -m uvicorn tipg.main:app` with one worker and
uvicorn's defaults, as sitcen runs under `sitcen serve`. Both read the `incidents` table that
sitcen's bulk create fills; sitcen answers an operator (authentication, scope and the list
filters applied), tipg answers anyone. For each page size the same requests (the first page,
and pages inside random bboxes) are sent by the same client, `--concurrency` at a time, to one
server and then the other; printed: requests/s, features/s, latency p50/p95, and the ratio of
sitcen's throughput to tipg's with PASS/MISS (target >= 1.0).

`--tiles`: the same comparison for Mapbox Vector Tiles (sitcen /api/tiles/incidents/{z}/{x}/{y}.mvt
beside tipg's /collections/public.incidents/tiles/WebMercatorQuad/{z}/{x}/{y}); it runs once
sitcen serves tiles (issue 19 §2) and says SKIP while the route answers 404.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from procstat import cpu_seconds, machine_speed  # noqa: E402

from app import devserver, localdb  # noqa: E402
from app.db import upgrade_database  # noqa: E402
from app.devserver import free_port  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "data" / "brussels"
BBOX = (4.28, 50.79, 4.44, 50.89)
CATEGORIES = ["fire", "traffic", "public_order", "health", "utility_outage", "other"]
SEVERITIES = ["minor", "moderate", "severe", "extreme"]
DB_NAME = "sitcen_bench_ogc"


def feature(rng: random.Random, i: int) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {
            "type": "Point",
            "coordinates": [rng.uniform(BBOX[0], BBOX[2]), rng.uniform(BBOX[1], BBOX[3])],
        },
        "properties": {
            "title": f"OGC bench incident {i}",
            "category": rng.choice(CATEGORIES),
            "severity": rng.choice(SEVERITIES),
            "description": "written by bench/ogc.py",
        },
    }


def quantile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def queries(rng: random.Random, count: int) -> list[tuple[float, float, float, float] | None]:
    """Half first pages of the whole collection, half pages inside a random bbox."""
    out: list[tuple[float, float, float, float] | None] = []
    for i in range(count):
        if i % 2 == 0:
            out.append(None)
            continue
        size = rng.choice([0.02, 0.05, 0.1])
        x, y = rng.uniform(BBOX[0], BBOX[2] - size), rng.uniform(BBOX[1], BBOX[3] - size)
        out.append((x, y, x + size, y + size))
    return out


async def load(
    base: str,
    path: str,
    headers: dict[str, str],
    limit: int,
    boxes: list[Any],
    concurrency: int,
    pid: int,
) -> dict[str, Any]:
    todo = iter(boxes)
    latencies: list[float] = []
    features = errors = 0

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal features, errors
        for box in todo:
            params: dict[str, Any] = {"limit": limit}
            if box is not None:
                params["bbox"] = ",".join(f"{v:.5f}" for v in box)
            t = time.perf_counter()
            r = await http.get(path, params=params)
            latencies.append(time.perf_counter() - t)
            if r.status_code != 200:
                errors += 1
                continue
            features += len(r.json()["features"])

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120, limits=limits) as h:
        await h.get(path, params={"limit": 1})  # connections warm, plans cached
        cpu = cpu_seconds(pid)
        t = time.perf_counter()
        await asyncio.gather(*(worker(h) for _ in range(concurrency)))
        elapsed = time.perf_counter() - t
        cpu = cpu_seconds(pid) - cpu
    return {
        "requests_per_s": len(latencies) / elapsed,
        "features_per_s": features / elapsed,
        "features": features,
        "errors": errors,
        "p50": quantile(latencies, 50),
        "p95": quantile(latencies, 95),
        "cpu_ms": cpu * 1000 / max(1, len(latencies)),
    }


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


async def tile_rate(
    base: str, pattern: str, headers: dict[str, str], wanted: list[Any], conc: int
) -> float:
    todo = iter(wanted)
    count = 0

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal count
        for z, x, y in todo:
            r = await http.get(pattern.format(z=z, x=x, y=y))
            r.raise_for_status()
            count += 1

    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as h:
        t = time.perf_counter()
        await asyncio.gather(*(worker(h) for _ in range(conc)))
        return count / (time.perf_counter() - t)


async def tiles(sitcen: str, tipg: str, auth: dict[str, str], count: int, conc: int) -> None:
    """Hook for issue 19 §2: MVT tiles of the same table, once sitcen serves them."""
    rng = random.Random(5)
    wanted = []
    for _ in range(count):
        z = rng.choice([12, 13, 14, 15])
        wanted.append(
            (z, *tile_of(rng.uniform(BBOX[0], BBOX[2]), rng.uniform(BBOX[1], BBOX[3]), z))
        )
    async with httpx.AsyncClient(base_url=sitcen, headers=auth, timeout=60) as h:
        z, x, y = wanted[0]
        probe = await h.get(f"/api/tiles/incidents/{z}/{x}/{y}.mvt")
    if probe.status_code == 404:
        print("TARGET MVT tiles: SKIP (sitcen serves no /api/tiles/incidents yet; issue 19 §2)")
        return
    results = {
        "sitcen": await tile_rate(
            sitcen, "/api/tiles/incidents/{z}/{x}/{y}.mvt", auth, wanted, conc
        ),
        "tipg": await tile_rate(
            tipg,
            "/collections/public.incidents/tiles/WebMercatorQuad/{z}/{x}/{y}",
            {},
            wanted,
            conc,
        ),
    }
    ratio = results["sitcen"] / results["tipg"]
    print(
        f"TARGET MVT tiles: floor (tipg) {results['tipg']:.0f} tiles/s, sitcen "
        f"{results['sitcen']:.0f} tiles/s, ratio {ratio:.2f} (target >= 1.0): "
        f"{'PASS' if ratio >= 1.0 else 'MISS'}"
    )


async def seed(api: str, key: str, count: int) -> None:
    rng = random.Random(11)
    async with httpx.AsyncClient(base_url=api, headers={"X-API-Key": key}, timeout=600) as h:
        for start in range(0, count, 1000):
            batch = [feature(rng, i) for i in range(start, min(count, start + 1000))]
            r = await h.post(
                "/api/incidents", json={"type": "FeatureCollection", "features": batch}
            )
            r.raise_for_status()
            assert r.json()["refused"] == 0, r.text[:500]


async def db(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    await conn.execute(sql)
    await conn.close()


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url}: no answer")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tipg-python", default="/tmp/tipg-venv/bin/python")
    ap.add_argument("--incidents", type=int, default=20_000)
    ap.add_argument("--pages", default="10,100,1000", help="page sizes (limit), comma-separated")
    ap.add_argument("--requests", type=int, default=200, help="requests per page size and server")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--tiles", action="store_true", help="also compare MVT tiles (see above)")
    args = ap.parse_args()
    if not Path(args.tipg_python).exists():
        sys.exit(f"no tipg at {args.tipg_python}: see this script's docstring")

    base = localdb.ensure_cluster(
        ROOT / ".local", int(os.environ.get("SITCEN_LOCAL_PG_PORT", "54329"))
    )
    localdb.drop_database(base, DB_NAME)
    url = localdb.ensure_database(base, DB_NAME)
    upgrade_database(url)
    asyncio.run(db(base + "/postgres", f'ALTER DATABASE "{DB_NAME}" SET synchronous_commit = off'))
    secret = secrets.token_urlsafe(48)
    env = {**os.environ, "SITCEN_DATABASE_URL": url, "SITCEN_SECRET_KEY": secret}
    env.pop("SITCEN_LOCAL_MODE", None)

    def cli(*words: str, extra: dict[str, str] | None = None) -> str:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *words],
            env={**env, **(extra or {})},
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    cli("reference", "load", str(REFERENCE))
    key = cli("apikey", "create", "bench", "--role", "dispatch").strip().splitlines()[-1]
    password = secrets.token_urlsafe(16)
    cli("user", "create", "bench-op", "--role", "operator", extra={"SITCEN_PASSWORD": password})

    port, tipg_port = free_port(), free_port()
    server = devserver.start(port, env, timeout=240)
    api = f"http://127.0.0.1:{port}"
    tipg_env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": "postgresql://" + url.split("://", 1)[1],
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.incidents"]',
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    tipg = None
    try:
        t = time.perf_counter()
        asyncio.run(seed(api, key, args.incidents))
        asyncio.run(db("postgresql://" + url.split("://", 1)[1], "ANALYZE incidents"))
        print(
            f"== OGC API items: {args.incidents} incidents (bulk-created in "
            f"{time.perf_counter() - t:.0f} s), {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.2f}, machine speed {machine_speed():.0f} ms (lower is "
            f"faster); {args.requests} requests per page size and server, "
            f"{args.concurrency} at a time; one uvicorn worker each"
        )
        tipg = subprocess.Popen(
            [
                *(args.tipg_python, "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1"),
                *("--port", str(tipg_port), "--log-level", "warning"),
            ],
            env=tipg_env,
        )
        tipg_url = f"http://127.0.0.1:{tipg_port}"
        wait_healthy(tipg_url + "/healthz", tipg, timeout=240)
        token = httpx.post(
            api + "/api/auth/token", data={"username": "bench-op", "password": password}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        figures = []
        for limit in (int(x) for x in args.pages.split(",")):
            boxes = queries(random.Random(limit), args.requests)
            ours = asyncio.run(
                load(
                    api,
                    "/api/features/collections/incidents/items",
                    auth,
                    limit,
                    boxes,
                    args.concurrency,
                    server.pid,
                )
            )
            theirs = asyncio.run(
                load(
                    tipg_url,
                    "/collections/public.incidents/items",
                    {},
                    limit,
                    boxes,
                    args.concurrency,
                    tipg.pid,
                )
            )
            for name, f in (("tipg", theirs), ("sitcen", ours)):
                print(
                    f"limit {limit:>4} {name:>6}: {f['requests_per_s']:.1f} requests/s, "
                    f"{f['features_per_s']:.0f} features/s ({f['features']} features, "
                    f"{f['errors']} errors); p50 {f['p50'] * 1000:.0f} ms, p95 "
                    f"{f['p95'] * 1000:.0f} ms; server CPU {f['cpu_ms']:.1f} ms per request"
                )
            ratio = ours["features_per_s"] / max(1e-9, theirs["features_per_s"])
            print(
                f"TARGET items limit {limit}: floor (tipg) {theirs['features_per_s']:.0f} "
                f"features/s, sitcen {ours['features_per_s']:.0f} features/s, ratio "
                f"{ratio:.2f} (target >= 1.0): {'PASS' if ratio >= 1.0 else 'MISS'}"
            )
            figures.append({"limit": limit, "ratio": round(ratio, 2)})
        if args.tiles:
            asyncio.run(tiles(api, tipg_url, auth, args.requests, args.concurrency))
        print(json.dumps({"items": figures}))
    finally:
        if tipg is not None:
            tipg.terminate()
            tipg.wait(10)
        server.terminate()
        server.wait(10)
        localdb.drop_database(base, DB_NAME)


if __name__ == "__main__":
    main()
