"""Vector tiles benchmark (issue 19 §2): the dashboard drawing 100,000 incidents from the
server's tiles, beside a bare MapLibre page drawing the same tiles as static files.

    .venv/bin/python bench/tiles.py                          # 100,000 incidents
    .venv/bin/python bench/tiles.py --incidents 20000 --loads 3

Starts its own database on the project-local PostGIS cluster and one uvicorn worker (as
bench/dashboard.py), writes one incident through the API and copies it in SQL to --incidents
incidents at random places in the Region (the write path's cost is bench/ingest.py's business;
here only the rows matter). Then:

- the floor: every tile the measured views need, pre-generated from the same database with the
  same statement (app.domain.tiles.tile_statement) into files, served by a plain static HTTP
  server with a bare MapLibre page (same MapLibre build, the same simplified reference outlines,
  one circle layer per tile layer);
- sitcen: the built dashboard, its incidents above SITCEN_TILE_THRESHOLD, so drawn from
  /api/tiles.

Both in the same Chromium (same flags, viewport, machine, run), measured by the page itself:
the first complete picture (navigation start → the map idle with every tile in view drawn;
for sitcen also every list read) over --loads loads, the first of which finds sitcen's tile
cache cold; and --moves pan/zooms (a jump to another view → idle). Printed: each side's
median, then the ratio sitcen / bare (aim ≤ 1.5×).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import math
import os
import shutil
import statistics
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard import CHROMIUM, CHROMIUM_ARGS, PROJECT_ROOT, Bench

OUT = PROJECT_ROOT / "bench" / "out" / "tiles"
MAPLIBRE = PROJECT_ROOT / "frontend" / "node_modules" / "maplibre-gl" / "dist"
REGION = (4.2438, 50.7637, 4.4823, 50.9139)
# The views a pan/zoom jumps to, (lon, lat, zoom), in turn.
MOVES = [
    (4.3525, 50.8467, 13.0),
    (4.3417, 50.8949, 14.0),
    (4.3720, 50.8270, 15.0),
    (4.3090, 50.8360, 12.5),
    (4.3800, 50.8600, 14.5),
    (4.3572, 50.8427, 11.5),
]
TILE_MAX_ZOOM = 16  # as the dashboard's vector sources (frontend/src/map.js)
SIMPLIFY = 0.00005  # as the dashboard asks the reference outlines (frontend/src/app.js)

BARE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="/maplibre-gl.css">
<style>html,body,#map{margin:0;height:100%}</style></head>
<body><div id="map"></div><script src="/maplibre-gl.js"></script><script>
window.picture = (async () => {
  const names = ['region', 'municipality', 'police_zone'];
  const ref = await Promise.all(names.map((n) => fetch(`/ref-${n}.json`).then((r) => r.json())));
  const sev = ['match', ['get', 'sev'], 0, '#3a78c2', 1, '#e0a100', 2, '#e0590b', '#9e0142'];
  const map = new maplibregl.Map({
    container: 'map',
    style: {
      version: 8,
      sources: {
        region: { type: 'geojson', data: ref[0] },
        municipality: { type: 'geojson', data: ref[1] },
        police_zone: { type: 'geojson', data: ref[2] },
        incident: { type: 'vector', tiles: [location.origin + '/tiles/{z}/{x}/{y}.mvt'],
                    maxzoom: MAX_ZOOM },
      },
      layers: [
        { id: 'bg', type: 'background', paint: { 'background-color': '#e9edf1' } },
        { id: 'region', type: 'fill', source: 'region', paint: { 'fill-color': '#fbfcfd' } },
        { id: 'muni', type: 'line', source: 'municipality', paint: { 'line-color': '#8a99ab' } },
        { id: 'pz', type: 'line', source: 'police_zone', paint: { 'line-color': '#34495e' } },
        { id: 'clusters', type: 'circle', source: 'incident', 'source-layer': 'incident-cluster',
          paint: { 'circle-color': ['match', ['get', 'maxsev'], 0, '#3a78c2', 1, '#e0a100',
                                    2, '#e0590b', '#9e0142'], 'circle-radius': 18 } },
        { id: 'points', type: 'circle', source: 'incident', 'source-layer': 'incident',
          paint: { 'circle-color': sev, 'circle-radius': 9 } },
      ],
    },
    bounds: [[REGION[0], REGION[1]], [REGION[2], REGION[3]]],
    fitBoundsOptions: { padding: 20 },
    fadeDuration: 0,
  });
  window.map = map;
  await new Promise((resolve) => map.once('idle', resolve));
  return performance.now();
})();
</script></body></html>
"""

# A jump to a view, until the map is idle with it drawn: milliseconds, as the page measures.
MOVE = """async ([lon, lat, zoom]) => {
  const map = window.sitcen ? window.sitcen.mapView.map : window.map;
  const started = performance.now();
  const idle = new Promise((resolve) => map.once('idle', resolve));
  map.jumpTo({ center: [lon, lat], zoom });
  await idle;
  return performance.now() - started;
}"""


def _tile_range(
    lon0: float, lat0: float, lon1: float, lat1: float, z: int
) -> list[tuple[int, int]]:
    n = 2**z

    def tx(lon: float) -> int:
        return min(n - 1, max(0, int((lon + 180) / 360 * n)))

    def ty(lat: float) -> int:
        r = math.radians(lat)
        return min(n - 1, max(0, int((1 - math.asinh(math.tan(r)) / math.pi) / 2 * n)))

    return [(x, y) for x in range(tx(lon0), tx(lon1) + 1) for y in range(ty(lat1), ty(lat0) + 1)]


def _view_bounds(lon: float, lat: float, zoom: float, width: int, height: int) -> tuple[float, ...]:
    """The lon/lat box a view of `width`×`height` px shows (512 px tiles), with a margin."""
    degrees_per_px = 360 / (512 * 2**zoom)
    dlon = width * degrees_per_px * 0.75
    dlat = height * degrees_per_px * math.cos(math.radians(lat)) * 0.75
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def needed_tiles(width: int, height: int) -> set[tuple[int, int, int]]:
    """Every tile the first view (the Region) and the moves may ask, at the zooms around each."""
    wanted: set[tuple[int, int, int]] = set()
    views = [(REGION, z) for z in range(9, 13)]
    for lon, lat, zoom in MOVES:
        box = _view_bounds(lon, lat, zoom, width, height)
        views += [(box, z) for z in range(int(zoom) - 1, int(zoom) + 2)]
    for (lon0, lat0, lon1, lat1), z in views:
        z = min(z, TILE_MAX_ZOOM)
        wanted |= {(z, x, y) for x, y in _tile_range(lon0, lat0, lon1, lat1, z)}
    return wanted


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class TilesBench(Bench):
    def prepare_database(self) -> None:
        """On SITCEN_TEST_DATABASE_BASE's server when set (as the tests), else the project's."""
        from app import localdb
        from app.db import upgrade_database

        base = os.environ.get("SITCEN_TEST_DATABASE_BASE")
        if not base:
            super().prepare_database()
            return
        self.db_base = base
        self.database_url = localdb.ensure_database(base, self.db_name)
        upgrade_database(self.database_url)

    async def seed_incidents(self, http: httpx.AsyncClient) -> None:
        """One incident through the API, copied in SQL to --incidents at random places."""
        import asyncpg

        from app.settings import plain_url

        body = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [4.3525, 50.8467]},
            "properties": {"title": "Incident de charge", "category": "fire", "severity": "minor"},
        }
        (await http.post("/api/incidents", json=body)).raise_for_status()
        connection = await asyncpg.connect(plain_url(self.database_url))
        try:
            columns = [
                r["column_name"]
                for r in await connection.fetch(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'incidents' ORDER BY ordinal_position"
                )
            ]
            x0, y0, x1, y1 = 4.29, 50.80, 4.44, 50.89
            replaced = {
                "id": "gen_random_uuid()",
                "ref": "'INC-B-' || n",
                "title": "'Incident de charge ' || n",
                "geom": f"ST_SetSRID(ST_MakePoint({x0} + random() * {x1 - x0}, "
                f"{y0} + random() * {y1 - y0}), 4326)",
                "category": "(ARRAY['fire','traffic','public_order','health','threat','other'])"
                "[1 + floor(random() * 6)::int]",
                "severity": "(ARRAY['minor','moderate','severe','extreme'])"
                "[1 + floor(random() * 4)::int]",
            }
            select = ", ".join(replaced.get(c, f't."{c}"') for c in columns)
            started = time.monotonic()
            names = ", ".join(f'"{c}"' for c in columns)
            await connection.execute(
                f"INSERT INTO incidents ({names}) "
                f"SELECT {select} FROM incidents t, generate_series(2, $1) n",
                self.args.incidents,
            )
            await connection.execute("ANALYZE incidents")
            self.say(f"  {self.args.incidents} incidents in {time.monotonic() - started:.0f} s")
        finally:
            await connection.close()

    async def static_site(self, http: httpx.AsyncClient) -> Path:
        """The bare page, MapLibre, the reference outlines and the pre-generated tiles."""
        from app.db import make_engine, make_sessionmaker
        from app.domain.incident import SPEC
        from app.domain.objects import ListFilter
        from app.domain.tiles import tile_statement
        from app.settings import Settings

        site = OUT / "site"
        shutil.rmtree(site, ignore_errors=True)
        (site / "tiles").mkdir(parents=True)
        page = BARE_PAGE.replace("MAX_ZOOM", str(TILE_MAX_ZOOM)).replace(
            "REGION", json.dumps(REGION)
        )
        (site / "index.html").write_text(page)
        for name in ("maplibre-gl.js", "maplibre-gl.css"):
            shutil.copy(MAPLIBRE / name, site / name)
        for layer in ("region", "municipality", "police_zone"):
            r = await http.get(f"/api/reference/{layer}", params={"simplify": SIMPLIFY})
            (site / f"ref-{layer}.json").write_bytes(r.raise_for_status().content)
        tiles = sorted(needed_tiles(self.args.width, self.args.height))
        engine = make_engine(Settings(database_url=self.database_url, secret_key=self.secret))
        sessions = make_sessionmaker(engine)
        started = time.monotonic()
        size = 0
        async with sessions() as session:
            for z, x, y in tiles:
                body = (
                    await session.execute(tile_statement(SPEC, ListFilter(), None, z, x, y))
                ).scalar_one()
                path = site / "tiles" / str(z) / str(x) / f"{y}.mvt"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(bytes(body or b""))
                size += len(body or b"")
        await engine.dispose()
        self.say(
            f"  {len(tiles)} static tiles ({size / 2**20:.1f} MiB) "
            f"in {time.monotonic() - started:.0f} s"
        )
        return site

    async def measure(self, page: Any, url: str, first: str) -> dict[str, list[float]]:
        loads = []
        for _ in range(self.args.loads):
            await page.goto(url)
            loads.append(float(await page.evaluate(first)))
        # Each view twice: first to tiles nobody asked yet (sitcen builds them), then again.
        moves: dict[str, list[float]] = {"moves": [], "moves_again": []}
        for name in moves:
            for i in range(self.args.moves):
                moves[name].append(float(await page.evaluate(MOVE, list(MOVES[i % len(MOVES)]))))
        return {"loads": loads, **moves}

    async def run_tiles(self) -> None:
        from playwright.async_api import async_playwright

        self.say(f"database {self.db_name}; server {self.url}")
        await asyncio.to_thread(self.prepare_database)
        await self.seed_accounts()
        self.start_server()
        async with httpx.AsyncClient(base_url=self.url, timeout=600) as client:
            session = await self.login(client, "bench")
            client.headers["Authorization"] = f"Bearer {session['access_token']}"
            await self.seed_incidents(client)
            site = await self.static_site(client)
        handler = functools.partial(_Quiet, directory=str(site))
        static = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=static.serve_forever, daemon=True).start()
        bare_url = f"http://127.0.0.1:{static.server_address[1]}/"
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context, page, blocked = await self.open_page(browser, session)
                sitcen = await self.measure(
                    page,
                    self.url + "/",
                    "async () => { await new Promise((resolve) => { const wait = () => "
                    "document.body.dataset.ready === 'true' ? resolve() : setTimeout(wait, 20);"
                    " wait(); }); return window.sitcen.metrics.firstPicture; }",
                )
                tiled = await page.evaluate("() => window.sitcen.mapView.isTiled('incident')")
                count = await page.evaluate("() => window.sitcen.store.count('incident')")
                await context.close()
                context, page, _ = await self.open_page(browser, session)
                bare = await self.measure(page, bare_url, "() => window.picture")
                await context.close()
                await browser.close()
        finally:
            static.shutdown()
        assert not blocked, f"requests left the machine: {blocked}"
        self.report(sitcen, bare, tiled, count)

    def report(
        self, sitcen: dict[str, list[float]], bare: dict[str, list[float]], tiled: bool, n: int
    ) -> None:
        def med(values: list[float]) -> float:
            return statistics.median(values) if values else float("nan")

        self.say(
            f"\n{n} incidents, drawn from tiles: {tiled}; "
            f"{self.args.width}x{self.args.height}; load average {os.getloadavg()[0]:.1f}"
        )
        rows = [
            ("first picture, cold (1st load)", sitcen["loads"][:1], bare["loads"][:1]),
            ("first picture, warm (median)", sitcen["loads"][1:], bare["loads"][1:]),
            ("pan/zoom to idle, new view (median)", sitcen["moves"], bare["moves"]),
            ("pan/zoom to idle, seen view (median)", sitcen["moves_again"], bare["moves_again"]),
        ]
        self.say(f"{'':38} {'bare page':>11} {'sitcen':>11} {'ratio':>7}  aim")
        for name, ours, floor in rows:
            a, b = med(floor), med(ours)
            self.say(f"{name:38} {a:9.0f}ms {b:9.0f}ms {b / a:6.2f}x  <= 1.5x")
        self.figures.update({"sitcen": sitcen, "bare": bare})
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "figures.json").write_text(json.dumps(self.figures, indent=2, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--loads", type=int, default=5, help="page loads timed, each side")
    parser.add_argument("--moves", type=int, default=6, help="pan/zooms timed, each side")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--keep-db", action="store_true", help="leave the database")
    args = parser.parse_args()
    args.database = None
    args.zones = 0
    bench = TilesBench(args)
    try:
        asyncio.run(bench.run_tiles())
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
