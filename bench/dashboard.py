"""Dashboard benchmark (issue 6): the built dashboard in headless Chromium with a big picture.

    .venv/bin/python bench/dashboard.py                      # short run: 3 min of streaming
    .venv/bin/python bench/dashboard.py --minutes 30         # the long run (heap after 30 min)

Starts its own database on the project-local PostGIS cluster and one uvicorn worker, loads
--incidents incidents and --zones zones through the API, then in Debian's Chromium
(SwiftShader WebGL, as in the browser tests) measures:

- time to the first complete picture: navigation start → every list read, the map drawn
  (`window.sitcen.metrics.firstPicture`), over --loads page loads;
- while --rate changes per second stream (PATCHes of the loaded incidents: they move, so the
  picture's size stays constant), the time from a change's arrival on the WebSocket to the end
  of the frame that draws it (the page's own measurement: every tile of the source loaded with
  the change, the frame issued, and a WebGL fence after it signalled, i.e. rasterised by the
  GPU, not merely queued), p50/p95/p99;
- the JS heap (after a forced GC) and the DOM size after the first minute and at the end,
  plus one sample a minute.

Figures, not pass/fail. The machine's load average is printed with them: on a shared 2-core
machine a software-rendered map is slow, and other work shows in every figure. Needs
`bash scripts/setup.sh` first (the dashboard is served from app/static).
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

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from app import devserver  # noqa: E402
from app.devserver import free_port  # noqa: E402

REFERENCE_DIR = PROJECT_ROOT.parent / "shared" / "data" / "brussels"
PASSWORD = "bench password, not a secret"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Inside the Region, so that the enrichment join finds a municipality for most points.
BBOX = (4.29, 50.80, 4.44, 50.89)
CATEGORIES = ["fire", "traffic", "public_order", "health", "utility_outage", "threat", "other"]
SEVERITIES = ["minor", "moderate", "severe", "extreme"]
ZONE_KINDS = ["security_perimeter", "red_zone", "drone_ban", "traffic_restriction", "hotspot"]
SEED_CONCURRENCY = 8
WRITE_CONCURRENCY = 16


def quantiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"n": len(values)}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "n": len(values),
        "p50": round(q[49], 1),
        "p95": round(q[94], 1),
        "p99": round(q[98], 1),
        "max": round(max(values), 1),
    }


def point(rng: random.Random) -> list[float]:
    return [round(rng.uniform(BBOX[0], BBOX[2]), 6), round(rng.uniform(BBOX[1], BBOX[3]), 6)]


def square(rng: random.Random, metres: float) -> dict[str, Any]:
    lon, lat = point(rng)
    dlat = metres / 2 / 111_320
    dlon = dlat / math.cos(math.radians(lat))
    ring = [[lon - dlon, lat - dlat], [lon + dlon, lat - dlat], [lon + dlon, lat + dlat]]
    ring += [[lon - dlon, lat + dlat], [lon - dlon, lat - dlat]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.secret = secrets.token_urlsafe(48)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: subprocess.Popen[bytes] | None = None
        self.db_base = ""
        self.db_name = args.database or f"sitcen_bench_dashboard_{os.getpid()}"
        self.database_url = ""
        self.versions: dict[str, int] = {}
        self.figures: dict[str, Any] = {"args": vars(args)}
        self.write_errors = 0
        self.writes = 0

    def say(self, text: str) -> None:
        print(text, flush=True)

    # ---- set-up

    def prepare_database(self) -> None:
        from app import localdb
        from app.db import upgrade_database

        port = int(os.environ.get("SITCEN_LOCAL_PG_PORT", "54329"))
        self.db_base = localdb.ensure_cluster(PROJECT_ROOT / ".local", port)
        self.database_url = localdb.ensure_database(self.db_base, self.db_name)
        upgrade_database(self.database_url)

    async def seed_accounts(self) -> None:
        from app.auth.roles import Role
        from app.auth.service import create_user
        from app.cli import load_reference
        from app.db import make_engine, make_sessionmaker, transaction
        from app.settings import Settings

        engine = make_engine(Settings(database_url=self.database_url, secret_key=self.secret))
        sessions = make_sessionmaker(engine)
        await load_reference(sessions, [str(REFERENCE_DIR)])
        async with transaction(sessions) as session:
            await create_user(session, "bench", PASSWORD, Role.operator, actor="bench")
            await create_user(session, "bench-writer", PASSWORD, Role.operator, actor="bench")
        await engine.dispose()

    def start_server(self) -> None:
        env = {**os.environ, "SITCEN_DATABASE_URL": self.database_url}
        env["SITCEN_SECRET_KEY"] = self.secret
        env.pop("SITCEN_LOCAL_MODE", None)
        logs = PROJECT_ROOT / "test-artifacts"
        logs.mkdir(exist_ok=True)
        self.server = devserver.start(self.port, env, logs / f"bench-dashboard-{self.port}.log")

    def cleanup(self) -> None:
        from app import localdb

        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(20)
            except subprocess.TimeoutExpired:
                self.server.kill()
        if self.database_url and not (self.args.keep_db or self.args.database):
            localdb.drop_database(self.db_base, self.db_name)

    async def login(self, http: httpx.AsyncClient, user: str) -> dict[str, Any]:
        r = await http.post("/api/auth/token", data={"username": user, "password": PASSWORD})
        r.raise_for_status()
        answer: dict[str, Any] = r.json()
        return answer

    async def seed_picture(self, http: httpx.AsyncClient) -> None:
        """The incidents and zones, through the API like any client, a few at a time."""
        queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        for i in range(self.args.incidents):
            queue.put_nowait(
                (
                    "/api/incidents",
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": point(self.rng)},
                        "properties": {
                            "title": f"Incident de charge {i}",
                            "category": self.rng.choice(CATEGORIES),
                            "severity": self.rng.choice(SEVERITIES),
                        },
                    },
                )
            )
        for i in range(self.args.zones):
            queue.put_nowait(
                (
                    "/api/zones",
                    {
                        "type": "Feature",
                        "geometry": square(self.rng, self.rng.uniform(80, 600)),
                        "properties": {
                            "title": f"Zone de charge {i}",
                            "kind": self.rng.choice(ZONE_KINDS),
                        },
                    },
                )
            )
        total = queue.qsize()
        started = time.monotonic()

        async def worker() -> None:
            while not queue.empty():
                path, body = queue.get_nowait()
                r = await http.post(path, json=body)
                r.raise_for_status()
                if path == "/api/incidents":
                    self.versions[r.json()["id"]] = r.json()["properties"]["version"]
                done = total - queue.qsize()
                if done % 2000 == 0:
                    self.say(f"  seeded {done}/{total}")

        await asyncio.gather(*(worker() for _ in range(SEED_CONCURRENCY)))
        self.say(f"  {total} objects in {time.monotonic() - started:.0f} s")

    async def read_versions(self, http: httpx.AsyncClient) -> None:
        """A kept database (--database): the incidents it holds, with their versions."""
        url: str | None = "/api/incidents?limit=1000"
        while url:
            page = (await http.get(url)).json()
            for f in page["features"]:
                self.versions[f["id"]] = f["properties"]["version"]
            nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
            url = nxt[0].removeprefix(self.url) if nxt else None
        self.say(f"  {len(self.versions)} incidents in {self.db_name}")

    # ---- the browser

    async def open_page(self, browser: Any, session: dict[str, Any]) -> Any:
        context = await browser.new_context(
            viewport={"width": self.args.width, "height": self.args.height},
            locale="fr-BE",
            timezone_id="Europe/Brussels",
        )
        stored = {
            "access_token": session["access_token"],
            "refresh_token": session["refresh_token"],
            "expires_at": int(time.time() * 1000) + session["expires_in"] * 1000,
            "user": session["user"],
        }
        # Signed in already: the page load measures the dashboard, not the password hash.
        await context.add_init_script(
            f"sessionStorage.setItem('sitcen.session', {json.dumps(json.dumps(stored))});"
        )
        blocked: list[str] = []

        async def guard(route: Any) -> None:
            host = route.request.url.split("/")[2] if "://" in route.request.url else ""
            if host.startswith("127.0.0.1") or route.request.url.startswith(("data:", "blob:")):
                await route.continue_()
            else:
                blocked.append(route.request.url)
                await route.abort()

        await context.route("**/*", guard)
        page = await context.new_page()
        return context, page, blocked

    async def first_picture(self, page: Any) -> list[float]:
        times = []
        for _ in range(self.args.loads):
            await page.goto(self.url + "/")
            await page.wait_for_selector("body[data-ready=true]", timeout=120_000)
            ms = await page.evaluate("() => window.sitcen.metrics.firstPicture")
            snapshot = await page.evaluate("() => window.sitcen.metrics.snapshotLoaded")
            count = await page.evaluate("() => window.sitcen.store.count('incident')")
            times.append(ms)
            self.say(
                f"  first complete picture {ms / 1000:.2f} s "
                f"(lists read at {snapshot / 1000:.2f} s; {count} incidents)"
            )
        return times

    async def heap(self, cdp: Any, page: Any) -> dict[str, float]:
        await cdp.send("HeapProfiler.collectGarbage")
        usage = await cdp.send("Runtime.getHeapUsage")
        dom = await page.evaluate("() => document.getElementsByTagName('*').length")
        return {"used_mib": round(usage["usedSize"] / 2**20, 2), "dom_nodes": dom}

    # ---- streaming

    async def stream(self, http: httpx.AsyncClient, stop: asyncio.Event) -> None:
        """--rate PATCHes a second of the loaded incidents: each moves and gets a new place text.
        Severity stays: a stream of new severe incidents would measure the alerting, not the
        picture (each rings, toasts and counts as unread). At most WRITE_CONCURRENCY requests
        are in flight: when the server cannot keep the rate, the achieved rate is reported
        rather than a backlog built up."""
        ids = list(self.versions)
        busy: set[str] = set()
        interval = 1 / self.args.rate
        gate = asyncio.Semaphore(WRITE_CONCURRENCY)
        tasks: set[asyncio.Task[None]] = set()

        async def one(incident_id: str) -> None:
            try:
                body = {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": point(self.rng)},
                    "properties": {"place": f"Mise à jour {self.writes + self.write_errors}"},
                }
                r = await http.patch(
                    f"/api/incidents/{incident_id}",
                    json=body,
                    headers={"If-Match": f'"{self.versions[incident_id]}"'},
                )
                if r.status_code == 200:
                    self.versions[incident_id] = r.json()["properties"]["version"]
                    self.writes += 1
                else:
                    self.write_errors += 1
            finally:
                busy.discard(incident_id)
                gate.release()

        next_at = time.monotonic()
        while not stop.is_set():
            await gate.acquire()
            # A PATCH on an object is never in flight twice: each goes with the version it read.
            candidate = self.rng.choice(ids)
            while candidate in busy:
                candidate = self.rng.choice(ids)
            busy.add(candidate)
            task = asyncio.create_task(one(candidate))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            next_at = max(next_at + interval, time.monotonic() - 1.0)
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*tasks)

    async def frame_cost(self, page: Any) -> dict[str, float]:
        """Milliseconds per frame, forced repaints until rasterised (the page's own fence): the
        whole picture, then the background layer alone, the software renderer's floor at this
        viewport, beneath any change-to-display time."""
        costs: dict[str, float] = await page.evaluate(
            """async () => {
                const view = window.sitcen.mapView;
                const map = view.map;
                const frame = () => new Promise((done) => {
                    map.once('render', () => view._whenRasterised().then(done));
                    map.triggerRepaint();
                });
                const average = async () => {
                    await frame();
                    const started = performance.now();
                    for (let i = 0; i < 6; i += 1) await frame();
                    return Math.round((performance.now() - started) / 6 * 10) / 10;
                };
                const whole = await average();
                const shown = map.getStyle().layers.filter(
                    (l) => l.type !== 'background'
                        && map.getLayoutProperty(l.id, 'visibility') !== 'none');
                for (const l of shown) map.setLayoutProperty(l.id, 'visibility', 'none');
                const background = await average();
                for (const l of shown) map.setLayoutProperty(l.id, 'visibility', 'visible');
                await frame();
                return { whole_picture_ms: whole, background_only_ms: background };
            }"""
        )
        return costs

    async def drain_latencies(self, page: Any) -> list[float]:
        values: list[float] = await page.evaluate(
            """() => {
                const ring = window.sitcen.mapView.metrics.latencies;
                return ring.splice(0, ring.length);
            }"""
        )
        return values

    async def fps(self, page: Any, seconds: float = 3.0) -> float | None:
        try:
            async with asyncio.timeout(seconds + 30):
                return await self._fps(page, seconds)
        except TimeoutError:
            self.say("  (the page did not answer the frame count in time)")
            return None

    async def _fps(self, page: Any, seconds: float) -> float:
        frames: float = await page.evaluate(
            """(ms) => new Promise((resolve) => {
                const map = window.sitcen.mapView.map;
                let n = 0;
                const on = () => { n += 1; };
                map.on('render', on);
                setTimeout(() => { map.off('render', on); resolve(n * 1000 / ms); }, ms);
            })""",
            seconds * 1000,
        )
        return round(frames, 1)

    async def run(self) -> None:
        from playwright.async_api import async_playwright

        args = self.args
        if not (PROJECT_ROOT / "app" / "static" / "index.html").exists():
            raise SystemExit("the dashboard is not built: run `bash scripts/setup.sh` first")
        self.say(f"database {self.db_name}, server {self.url}")
        # Alembic runs its own event loop: in a thread of its own.
        await asyncio.to_thread(self.prepare_database)
        if not args.database:
            await self.seed_accounts()
        self.start_server()
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as writer:
            writer.headers["Authorization"] = (
                f"Bearer {(await self.login(writer, 'bench-writer'))['access_token']}"
            )
            if args.database:
                await self.read_versions(writer)
            else:
                self.say(f"seeding {args.incidents} incidents and {args.zones} zones")
                await self.seed_picture(writer)
            session = await self.login(writer, "bench")

            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context, page, blocked = await self.open_page(browser, session)
                cdp = await context.new_cdp_session(page)
                self.say("time to the first complete picture")
                loads = await self.first_picture(page)
                self.figures["first_picture_s"] = [round(t / 1000, 2) for t in loads]
                self.figures["fps_idle"] = await self.fps(page)
                self.figures["frame_cost"] = await self.frame_cost(page)
                self.say(f"  frame cost: {self.figures['frame_cost']}")

                self.say(f"streaming {args.rate} changes/s for {args.minutes} min")
                stop = asyncio.Event()
                writer_task = asyncio.create_task(self.stream(writer, stop))
                started = time.monotonic()
                latencies: list[float] = []
                samples: list[dict[str, Any]] = []
                first_minute: dict[str, float] | None = None
                minute = 0
                while time.monotonic() - started < args.minutes * 60:
                    await asyncio.sleep(min(60.0, args.minutes * 60 - (time.monotonic() - started)))
                    minute += 1
                    latencies += await self.drain_latencies(page)
                    sample = {"minute": minute, **(await self.heap(cdp, page))}
                    sample["writes"] = self.writes
                    sample["load"] = round(os.getloadavg()[0], 1)
                    samples.append(sample)
                    if first_minute is None:
                        first_minute = sample
                    self.say(f"  {sample}")
                streamed_s = time.monotonic() - started
                self.say("  measuring frames/s, stopping the writer")
                self.figures["fps_streaming"] = await self.fps(page)
                stop.set()
                await writer_task
                self.say("  writer stopped")
                await asyncio.sleep(2)
                latencies += await self.drain_latencies(page)
                shown = await page.evaluate("() => window.sitcen.store.seq")
                head = (await writer.get("/api/health")).json()["head"]
                self.figures.update(
                    {
                        "change_to_display_ms": quantiles(latencies),
                        "writes": self.writes,
                        "achieved_rate": round(self.writes / streamed_s, 1),
                        "write_errors": self.write_errors,
                        "heap_after_first_minute": first_minute,
                        "heap_at_end": samples[-1] if samples else None,
                        "heap_samples": samples,
                        "page_seq_vs_head": [shown, head],
                        "requests_blocked": blocked,
                        "load_average": [round(x, 1) for x in os.getloadavg()],
                    }
                )
                await browser.close()
        self.report()

    def report(self) -> None:
        f = self.figures
        out = PROJECT_ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"dashboard-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps(f, indent=2))
        lat = f["change_to_display_ms"]
        first, end = f["heap_after_first_minute"] or {}, f["heap_at_end"] or {}
        self.say("")
        self.say("== dashboard figures")
        a = self.args
        self.say(f"incidents {a.incidents}, zones {a.zones}, viewport {a.width}x{a.height}")
        loads = ", ".join(f"{t:.2f} s" for t in f["first_picture_s"])
        self.say(f"first complete picture: {loads} (target <= 2 s)")
        self.say(
            f"change -> display while {f['achieved_rate']}/s stream: p50 {lat.get('p50')} ms, "
            f"p95 {lat.get('p95')} ms, p99 {lat.get('p99')} ms, max {lat.get('max')} ms over "
            f"{lat.get('n')} changes (target p95 <= 100 ms)"
        )
        self.say(f"map frames/s: idle {f['fps_idle']}, streaming {f['fps_streaming']}")
        cost = f["frame_cost"]
        self.say(
            f"one frame, forced and rasterised: {cost['whole_picture_ms']} ms with the picture, "
            f"{cost['background_only_ms']} ms with the background layer alone (the renderer's "
            "floor at this viewport)"
        )
        self.say(
            f"JS heap after GC: {first.get('used_mib')} MiB after minute 1, "
            f"{end.get('used_mib')} MiB after minute {end.get('minute')}; DOM nodes "
            f"{first.get('dom_nodes')} -> {end.get('dom_nodes')}"
        )
        self.say(
            f"writes {f['writes']} ok ({f['achieved_rate']}/s achieved), "
            f"{f['write_errors']} refused"
        )
        self.say(f"page seq / feed head at the end: {f['page_seq_vs_head']}")
        self.say(f"requests that tried to leave the machine: {len(f['requests_blocked'])}")
        self.say(f"load average (1, 5, 15 min): {f['load_average']} on {os.cpu_count()} cores")
        self.say(f"figures written to {path.relative_to(PROJECT_ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--zones", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0, help="changes per second")
    parser.add_argument("--minutes", type=float, default=3.0, help="streaming duration")
    parser.add_argument("--loads", type=int, default=3, help="page loads timed")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--keep-db", action="store_true", help="leave the database for a rerun")
    parser.add_argument("--database", help="reuse a database kept by --keep-db (no seeding)")
    args = parser.parse_args()
    bench = Bench(args)
    try:
        asyncio.run(bench.run())
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
