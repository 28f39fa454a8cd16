"""Dashboard benchmark (issues 6 and 19 §1): the built dashboard beside a bare MapLibre page.

    .venv/bin/python bench/dashboard.py                       # both viewports, 2 min heap run
    .venv/bin/python bench/dashboard.py --soak-minutes 30     # the issue's 30 min heap run
    .venv/bin/python bench/dashboard.py --incidents 2000 --changes 30 --soak-minutes 0.5 \
        --viewport 1440x900                                   # a quick look

Starts its own database on the project-local PostGIS cluster and one uvicorn worker, loads
--incidents incidents and --zones zones through the API. The floor, measured in the same run,
the same Chromium (same flags as tests/browser/conftest.py), the same viewport: a bare page
served by the bench from a temporary directory, with the installed MapLibre
(frontend/node_modules/maplibre-gl/dist), the region, municipalities and police zones as the
dashboard reads them from /api/reference (simplified alike), the same incidents in one static
GeoJSON file drawn by one plain circle layer, and changes applied with
`GeoJSONSource.updateData`. At each viewport (--viewport, repeatable; default 1440x900 and
1920x1080), both sides are measured and each target printed as a `TARGET` line:

- first complete picture: navigation start to the map drawn with every incident (the
  dashboard's `window.sitcen.metrics.firstPicture`: lists read, sources loaded, the frame
  rasterised behind a WebGL fence; the bare page: map idle with its sources loaded, then the
  same fence), median of --loads loads; target sitcen <= 1.3x the floor;
- change to the end of the frame that draws it, p95 over --changes changes at --rate/s: in the
  dashboard from the change's arrival on the WebSocket (the page's own ring of latencies,
  `mapView.metrics.latencies`), in the bare page from the call to `updateData` (same fence);
  target <= 1.3x;
- change (WebSocket arrival, hooked before the page's handler) to its row in the feed list
  (a MutationObserver), p95: absolute target <= 50 ms, no WebGL on this path;
- the JS heap (forced GC, `Runtime.getHeapUsage`) sampled while --rate changes a second go on
  for --soak-minutes: median of the first and of the last minute (a third of a shorter run),
  growth, on both sides.

The machine's load average is printed with the figures: on a shared 2-core machine a
software-rendered map (SwiftShader) is slow and other work shows in every figure, which is why
the targets are ratios to a floor measured in the same run. Needs the dashboard built
(`npm run build --prefix frontend` or `bash scripts/setup.sh`).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import http.server
import json
import math
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
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
# As the dashboard reads its reference outlines (frontend/src/app.js REFERENCE_SIMPLIFY).
REFERENCE_SIMPLIFY = 0.00005
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


# ---- the floor: a bare MapLibre page served by the bench itself

BARE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>bare</title>
<link rel="stylesheet" href="maplibre-gl.css">
<style>html, body, #map { margin: 0; width: 100%; height: 100%; }</style>
</head><body><div id="map"></div>
<script src="maplibre-gl.js"></script>
<script>
const bench = (window.bench = { firstPicture: null, latencies: [], errors: [], timer: null });
const geojson = (data) => ({ type: 'geojson', data });
const map = new maplibregl.Map({
  container: 'map',
  center: [4.3572, 50.8427],
  zoom: 11,
  attributionControl: false,
  style: {
    version: 8,
    sources: {
      region: geojson('region.geojson'),
      municipality: geojson('municipality.geojson'),
      police_zone: geojson('police_zone.geojson'),
      incidents: geojson('incidents.geojson'),
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#e8eaed' } },
      { id: 'region', type: 'fill', source: 'region', paint: { 'fill-color': '#f7f7f2' } },
      { id: 'municipality', type: 'line', source: 'municipality',
        paint: { 'line-color': '#8a8f98', 'line-width': 1 } },
      { id: 'police_zone', type: 'line', source: 'police_zone',
        paint: { 'line-color': '#4a6fa5', 'line-width': 1.5, 'line-dasharray': [3, 2] } },
      { id: 'incidents', type: 'circle', source: 'incidents',
        paint: { 'circle-radius': 5, 'circle-color': '#d9480f',
                 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1 } },
    ],
  },
});
map.fitBounds([[4.2438, 50.7637], [4.4823, 50.9139]], { padding: 20, duration: 0 });
// Rasterised, not merely queued: a WebGL fence after the frame, as the dashboard's own metric.
const rasterised = () => {
  const gl = map.painter.context.gl;
  const fence = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
  gl.flush();
  return new Promise((resolve) => {
    const poll = () => {
      if (gl.clientWaitSync(fence, 0, 0) === gl.TIMEOUT_EXPIRED) { setTimeout(poll, 2); return; }
      gl.deleteSync(fence);
      resolve();
    };
    poll();
  });
};
// The end of the first frame drawn with the source's data, as the dashboard's _whenDrawn.
const drawn = () => new Promise((resolve) => {
  const check = () => {
    if (!map.isSourceLoaded('incidents')) return;
    map.off('render', check);
    rasterised().then(resolve);
  };
  map.on('render', check);
  map.triggerRepaint();
});
map.on('load', () => {
  const ready = () => {
    if (!map.isSourceLoaded('incidents') || !map.loaded()) { map.once('idle', ready); return; }
    rasterised().then(() => { bench.firstPicture = performance.now(); });
  };
  map.once('idle', ready);
});
const [W, S, E, N] = [4.29, 50.80, 4.44, 50.89];
let counter = 0;
bench.change = (feature) => {
  const started = performance.now();
  counter += 1;
  const moved = {
    ...feature,
    geometry: {
      type: 'Point',
      coordinates: [W + Math.random() * (E - W), S + Math.random() * (N - S)],
    },
    properties: { ...feature.properties, place: `Mise a jour ${counter}` },
  };
  map.getSource('incidents').updateData({ add: [moved] }, true)
    .then(drawn)
    .then(() => {
      bench.latencies.push(performance.now() - started);
      if (bench.latencies.length > 10000) bench.latencies.splice(0, 5000);
    })
    .catch((error) => bench.errors.push(String(error)));
};
bench.stream = (features, rate, count) => {
  let i = 0;
  bench.timer = setInterval(() => {
    if (count != null && i >= count) { clearInterval(bench.timer); return; }
    bench.change(features[i % features.length]);
    i += 1;
  }, 1000 / rate);
};
bench.stop = () => clearInterval(bench.timer);
</script></body></html>
"""

# In the dashboard: each change's arrival on the WebSocket (before the page's own handler, which
# registers later) and the moment its row enters the feed list (a MutationObserver: the row is
# in the DOM, no WebGL on this path). The maps are bounded so that they do not weigh on the heap.
SITCEN_HOOKS = """(() => {
  const arrivals = new Map();
  const feed = [];
  window.__bench = { arrivals, feed };
  const Native = window.WebSocket;
  class Timed extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        const at = performance.now();
        if (typeof event.data !== 'string' || !event.data.includes('"change"')) return;
        // A frame carries one or more messages, one per line (docs/realtime.md §2).
        for (const line of event.data.split('\\n')) {
          let message;
          try { message = JSON.parse(line); } catch (error) { continue; }
          if (message.type !== 'change') continue;
          arrivals.set(String(message.seq), at);
          if (arrivals.size > 2000) arrivals.delete(arrivals.keys().next().value);
        }
      });
    }
  }
  window.WebSocket = Timed;
  let watched = null;
  const watch = () => {
    const list = document.querySelector('.feed-list');
    if (list && list !== watched) {
      watched = list;
      new MutationObserver((records) => {
        const at = performance.now();
        for (const record of records) {
          for (const node of record.addedNodes) {
            const seq = node.dataset && node.dataset.seq;
            const arrived = seq && arrivals.get(seq);
            if (arrived == null) continue;
            arrivals.delete(seq);
            feed.push(at - arrived);
            if (feed.length > 10000) feed.splice(0, 5000);
          }
        }
      }).observe(list, { childList: true });
    }
    setTimeout(watch, 500);
  };
  watch();
})();"""


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

    async def open_page(
        self,
        browser: Any,
        session: dict[str, Any] | None,
        width: int,
        height: int,
        hooks: str | None = None,
        context_options: dict[str, Any] | None = None,
    ) -> Any:
        """A browser context at this viewport, signed in as `session` if given (and with
        `context_options` for Playwright's new_context: a phone's is_mobile, has_touch...)."""
        context = await browser.new_context(
            viewport={"width": width, "height": height},
            locale="fr-BE",
            timezone_id="Europe/Brussels",
            **(context_options or {}),
        )
        if hooks:
            await context.add_init_script(hooks)
        stored = session and {
            "access_token": session["access_token"],
            "refresh_token": session["refresh_token"],
            "expires_at": int(time.time() * 1000) + session["expires_in"] * 1000,
            "user": session["user"],
        }
        # Signed in already: the page load measures the dashboard, not the password hash.
        if stored:
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
            self.marks = await page.evaluate("() => window.sitcen.metrics.marks")
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

    async def stream(
        self, http: httpx.AsyncClient, stop: asyncio.Event, limit: int | None = None
    ) -> None:
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
        sent = 0
        while not stop.is_set() and (limit is None or sent < limit):
            sent += 1
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

    # ---- the floor's site

    async def write_bare_site(self, http: httpx.AsyncClient, root: Path) -> int:
        """The bare page, the installed MapLibre, the same reference layers (as the dashboard
        reads them, simplified alike) and the same incidents in one static GeoJSON file."""
        dist = PROJECT_ROOT / "frontend" / "node_modules" / "maplibre-gl" / "dist"
        for name in ("maplibre-gl.js", "maplibre-gl.css"):
            shutil.copy(dist / name, root / name)
        (root / "index.html").write_text(BARE_PAGE)
        for layer in ("region", "municipality", "police_zone"):
            r = await http.get(f"/api/reference/{layer}", params={"simplify": REFERENCE_SIMPLIFY})
            r.raise_for_status()
            (root / f"{layer}.geojson").write_bytes(r.content)
        features: list[dict[str, Any]] = []
        url: str | None = "/api/incidents?limit=1000"
        while url:
            page = (await http.get(url)).json()
            features += page["features"]
            nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
            url = nxt[0].removeprefix(self.url) if nxt else None
        collection = {"type": "FeatureCollection", "features": features}
        (root / "incidents.geojson").write_text(json.dumps(collection))
        self.bare_features = features
        return len(features)

    def serve_bare_site(self, root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

        handler = functools.partial(Quiet, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"

    # ---- one side each

    def soak_window(self) -> tuple[float, float]:
        """Seconds of the soak, and the window whose median is 'first' and 'last minute' (a
        minute, or a third of a shorter soak)."""
        seconds = self.args.soak_minutes * 60
        return seconds, min(60.0, seconds / 3)

    def heap_summary(self, samples: list[tuple[float, float]]) -> dict[str, Any]:
        seconds, window = self.soak_window()
        first = [mib for t, mib in samples if t <= window]
        last = [mib for t, mib in samples if t >= seconds - window]
        if not first or not last:
            return {"samples": samples}
        a, b = statistics.median(first), statistics.median(last)
        return {
            "first_mib": round(a, 2),
            "last_mib": round(b, 2),
            "growth_mib": round(b - a, 2),
            "growth_pct": round((b - a) / a * 100, 1) if a else None,
            "window_s": window,
            "samples": [(round(t, 1), round(m, 2)) for t, m in samples],
        }

    async def sample_heap(self, cdp: Any, during: float) -> list[tuple[float, float]]:
        """Forced-GC heap samples (MiB) every few seconds for `during` seconds."""
        every = max(2.0, min(10.0, during / 20))
        samples: list[tuple[float, float]] = []
        started = time.monotonic()
        while True:
            await cdp.send("HeapProfiler.collectGarbage")
            usage = await cdp.send("Runtime.getHeapUsage")
            samples.append((time.monotonic() - started, usage["usedSize"] / 2**20))
            left = during - (time.monotonic() - started)
            if left <= 0:
                return samples
            await asyncio.sleep(min(every, left))

    async def measure_sitcen(self, browser: Any, session: dict[str, Any], w: int, h: int) -> Any:
        args = self.args
        context, page, blocked = await self.open_page(browser, session, w, h, SITCEN_HOOKS)
        cdp = await context.new_cdp_session(page)
        out: dict[str, Any] = {}
        self.say(f"sitcen at {w}x{h}: time to the first complete picture")
        out["first_picture_ms"] = await self.first_picture(page)
        out["marks_ms"] = self.marks
        self.say(f"  marks of the last load (ms after navigation start): {self.marks}")
        out["frame_cost"] = await self.frame_cost(page)
        self.say(f"  frame cost: {out['frame_cost']}")
        await page.evaluate("() => { window.__bench.feed.length = 0; }")
        await self.drain_latencies(page)

        self.say(f"  {args.changes} changes at {args.rate}/s")
        before = self.writes
        stop = asyncio.Event()
        task = asyncio.create_task(self.stream(self.http, stop, limit=args.changes))
        await task
        achieved = self.writes - before
        await asyncio.sleep(3)
        out["change_to_frame_ms"] = quantiles(await self.drain_latencies(page))
        out["change_to_feed_ms"] = quantiles(
            await page.evaluate("() => window.__bench.feed.splice(0)")
        )
        out["changes_written"] = achieved

        seconds, _ = self.soak_window()
        if seconds > 0:
            self.say(f"  heap over {args.soak_minutes} min at {args.rate} changes/s")
            stop = asyncio.Event()
            writes = self.writes
            task = asyncio.create_task(self.stream(self.http, stop))
            samples = await self.sample_heap(cdp, seconds)
            stop.set()
            await task
            out["heap"] = self.heap_summary(samples)
            out["heap"]["achieved_rate"] = round((self.writes - writes) / seconds, 1)
            out["dom_nodes"] = await page.evaluate(
                "() => document.getElementsByTagName('*').length"
            )
            await page.evaluate("() => window.__bench.feed.splice(0)")
            await self.drain_latencies(page)
        out["requests_blocked"] = blocked
        await context.close()
        return out

    async def measure_bare(self, browser: Any, site: str, w: int, h: int) -> Any:
        args = self.args
        context, page, blocked = await self.open_page(browser, None, w, h)
        cdp = await context.new_cdp_session(page)
        out: dict[str, Any] = {}
        self.say(f"bare page at {w}x{h}: time to the first complete picture")
        times = []
        for _ in range(args.loads):
            await page.goto(site + "/index.html")
            await page.wait_for_function("() => window.bench.firstPicture", timeout=120_000)
            ms = await page.evaluate("() => window.bench.firstPicture")
            times.append(ms)
            self.say(f"  first complete picture {ms / 1000:.2f} s")
        out["first_picture_ms"] = times
        # The same moves as the dashboard's, made in the page at the same rate.
        sample = self.rng.sample(self.bare_features, min(len(self.bare_features), 500))
        await page.evaluate("() => { window.bench.latencies.length = 0; }")
        self.say(f"  {args.changes} updateData at {args.rate}/s")
        await page.evaluate(
            "([f, rate, n]) => window.bench.stream(f, rate, n)", [sample, args.rate, args.changes]
        )
        await page.wait_for_function(
            "(n) => window.bench.latencies.length + window.bench.errors.length >= n",
            arg=args.changes,
            timeout=120_000,
        )
        out["errors"] = await page.evaluate("() => window.bench.errors.splice(0)")
        if out["errors"]:
            self.say(f"  updateData failed: {out['errors'][:3]}")
        out["change_to_frame_ms"] = quantiles(
            await page.evaluate("() => window.bench.latencies.splice(0)")
        )
        seconds, _ = self.soak_window()
        if seconds > 0:
            self.say(f"  heap over {args.soak_minutes} min at {args.rate} updateData/s")
            await page.evaluate("([f, rate]) => window.bench.stream(f, rate)", [sample, args.rate])
            samples = await self.sample_heap(cdp, seconds)
            await page.evaluate("() => window.bench.stop()")
            out["heap"] = self.heap_summary(samples)
        out["requests_blocked"] = blocked
        await context.close()
        return out

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
            self.http = writer
            writer.headers["Authorization"] = (
                f"Bearer {(await self.login(writer, 'bench-writer'))['access_token']}"
            )
            if args.database:
                await self.read_versions(writer)
            else:
                self.say(f"seeding {args.incidents} incidents and {args.zones} zones")
                await self.seed_picture(writer)
            session = await self.login(writer, "bench")
            with tempfile.TemporaryDirectory(prefix="sitcen-bare-") as tmp:
                n = await self.write_bare_site(writer, Path(tmp))
                static, site = self.serve_bare_site(Path(tmp))
                self.say(f"bare page at {site} with {n} incidents")
                try:
                    async with async_playwright() as p:
                        browser = await p.chromium.launch(
                            executable_path=CHROMIUM, args=CHROMIUM_ARGS
                        )
                        for w, h in args.viewports:
                            # The floor first: its figures do not wait on the stream's backlog.
                            bare = await self.measure_bare(browser, site, w, h)
                            ours = await self.measure_sitcen(browser, session, w, h)
                            self.figures[f"{w}x{h}"] = {"floor": bare, "sitcen": ours}
                        await browser.close()
                finally:
                    static.shutdown()
        self.figures["writes"] = self.writes
        self.figures["write_errors"] = self.write_errors
        self.figures["load_average"] = [round(x, 1) for x in os.getloadavg()]
        self.report()

    def target(self, what: str, floor: float | None, ours: float | None, limit: float) -> None:
        if floor is None or ours is None or not floor:
            self.say(f"TARGET {what}: floor {floor}, sitcen {ours}: NOT MEASURED")
            return
        ratio = ours / floor
        verdict = "PASS" if ratio <= limit else "MISS"
        self.say(
            f"TARGET {what}: floor {floor:.0f} ms, sitcen {ours:.0f} ms, "
            f"ratio {ratio:.2f} (target <= {limit}): {verdict}"
        )

    def report(self) -> None:
        f = self.figures
        out = PROJECT_ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"dashboard-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps(f, indent=2))
        a = self.args
        self.say("")
        self.say("== dashboard beside a bare MapLibre page")
        self.say(
            f"incidents {a.incidents}, zones {a.zones}, {a.changes} changes at {a.rate}/s, "
            f"heap over {a.soak_minutes} min"
        )
        for w, h in a.viewports:
            v = f[f"{w}x{h}"]
            floor, ours = v["floor"], v["sitcen"]
            self.say(f"-- viewport {w}x{h}")
            self.target(
                f"{w}x{h} first complete picture (median of {a.loads})",
                statistics.median(floor["first_picture_ms"]),
                statistics.median(ours["first_picture_ms"]),
                1.3,
            )
            fl, us = floor["change_to_frame_ms"], ours["change_to_frame_ms"]
            self.target(f"{w}x{h} change to frame p95", fl.get("p95"), us.get("p95"), 1.3)
            self.say(
                f"   change to frame p50: floor {fl.get('p50')} ms (n {fl.get('n')}), "
                f"sitcen {us.get('p50')} ms (n {us.get('n')} of {ours['changes_written']} written)"
            )
            feed = ours["change_to_feed_ms"]
            p95 = feed.get("p95")
            verdict = "NOT MEASURED" if p95 is None else ("PASS" if p95 <= 50 else "MISS")
            self.say(
                f"TARGET {w}x{h} change to feed list p95: sitcen {p95} ms over {feed.get('n')} "
                f"(absolute, target <= 50 ms, no floor): {verdict}"
            )
            cost = ours["frame_cost"]
            self.say(
                f"   one forced, rasterised frame: {cost['whole_picture_ms']} ms with the picture, "
                f"{cost['background_only_ms']} ms with the background alone"
            )
            for side in ("floor", "sitcen"):
                heap = v[side].get("heap")
                if not heap or "first_mib" not in heap:
                    continue
                rate = f", {heap['achieved_rate']}/s achieved" if "achieved_rate" in heap else ""
                self.say(
                    f"HEAP {w}x{h} {side}: median first {heap['window_s']:.0f} s "
                    f"{heap['first_mib']} MiB, last {heap['window_s']:.0f} s {heap['last_mib']} "
                    f"MiB, growth {heap['growth_mib']:+} MiB ({heap['growth_pct']:+}%){rate}"
                )
            blocked = len(floor["requests_blocked"]) + len(ours["requests_blocked"])
            self.say(f"   requests that tried to leave the machine: {blocked}")
        self.say(f"writes {f['writes']} ok, {f['write_errors']} refused")
        self.say(f"load average (1, 5, 15 min): {f['load_average']} on {os.cpu_count()} cores")
        self.say(f"figures written to {path.relative_to(PROJECT_ROOT)}")


def viewport(text: str) -> tuple[int, int]:
    w, _, h = text.partition("x")
    return int(w), int(h)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--zones", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0, help="changes per second")
    parser.add_argument("--changes", type=int, default=300, help="changes timed (p95)")
    parser.add_argument(
        "--soak-minutes", type=float, default=2.0, help="heap run at --rate (issue: 30)"
    )
    parser.add_argument("--loads", type=int, default=3, help="page loads timed")
    parser.add_argument(
        "--viewport",
        dest="viewports",
        type=viewport,
        action="append",
        help="WIDTHxHEIGHT, repeatable (default 1440x900 and 1920x1080)",
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--keep-db", action="store_true", help="leave the database for a rerun")
    parser.add_argument("--database", help="reuse a database kept by --keep-db (no seeding)")
    args = parser.parse_args()
    args.viewports = args.viewports or [(1440, 900), (1920, 1080)]
    bench = Bench(args)
    try:
        asyncio.run(bench.run())
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
