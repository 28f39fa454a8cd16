"""Replay benchmark (issue 18): one day of the feed replayed at ×600 in the dashboard, beside the
live picture's figures in the same run and the same page.

    .venv/bin/python bench/replay.py
    .venv/bin/python bench/replay.py --incidents 2000 --changes 20000 --seconds 40

Starts its own database and one uvicorn worker (as bench/dashboard.py does), loads --incidents
incidents and --zones zones, then --changes updates of them (they move and change severity),
all through the API. The server is stopped and the feed's records are spread evenly over
yesterday (Europe/Brussels; tests.redate: a past to replay, which the service itself never
writes), and the server started again. Then, in Debian's Chromium (SwiftShader WebGL, as in the
browser tests):

- live: while --rate changes per second stream, for --seconds, the changes the page applied
  per second (store events) and the frame cadence (requestAnimationFrame intervals, p50/p95/p99,
  and the map's frames per second);
- replay: the time control opened at yesterday 00:00, playing at ×600 for --seconds: the
  changes applied per second (Replay.applied) against what the feed holds for that stretch of
  the day (the floor: changes per day × 600 / 86 400), and the same frame figures.

Figures, not pass/fail; the load average is printed with them (a shared 2-core machine).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.dashboard import CHROMIUM, CHROMIUM_ARGS, Bench, point, quantiles  # noqa: E402
from tests.redate import spread_over  # noqa: E402

BRUSSELS = ZoneInfo("Europe/Brussels")
SEVERITIES = ["minor", "moderate", "severe", "extreme"]
SPEED = 600

# Frame intervals and the page's applied changes over `ms`: counted by the page itself.
MEASURE = """async ([ms, replaying]) => {
    const app = window.sitcen;
    const intervals = [];
    let applied = 0;
    const off = app.store.subscribe((e) => { if (e.type === 'change' && e.entry) applied += 1; });
    let renders = 0;
    const onRender = () => { renders += 1; };
    app.mapView.map.on('render', onRender);
    const replayed = app.replay.applied;
    const head = app.replay.time;
    let last = performance.now();
    let running = true;
    const frame = (t) => {
        intervals.push(t - last);
        last = t;
        if (running) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    const started = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    running = false;
    const seconds = (performance.now() - started) / 1000;
    off();
    app.mapView.map.off('render', onRender);
    return {
        seconds,
        applied_per_s: applied / seconds,
        replayed_per_s: replaying ? (app.replay.applied - replayed) / seconds : null,
        replay_minutes: replaying ? (app.replay.time - head) / 60000 : null,
        intervals: intervals.slice(1),
        map_fps: renders / seconds,
    };
}"""


class ReplayBench(Bench):
    def __init__(self, args: argparse.Namespace) -> None:
        args.keep_db, args.database = False, None
        super().__init__(args)
        self.db_name = f"sitcen_bench_replay_{os.getpid()}"
        self.day_start = datetime.now(BRUSSELS).replace(hour=0, minute=0, second=0, microsecond=0)
        self.day_start -= timedelta(days=1)
        self.records = 0

    def prepare_database(self) -> None:
        """On the server SITCEN_TEST_DATABASE_BASE names, else the project-local cluster."""
        from app import localdb
        from app.db import upgrade_database

        base = os.environ.get("SITCEN_TEST_DATABASE_BASE")
        if not base:
            super().prepare_database()
            return
        self.db_base = base
        self.database_url = localdb.ensure_database(base, self.db_name)
        upgrade_database(self.database_url)

    def stop_server(self) -> None:
        assert self.server is not None
        self.server.terminate()
        self.server.wait(20)
        self.server = None

    async def seed_day(self, http: httpx.AsyncClient) -> None:
        ids = list(self.versions)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(self.args.changes):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                oid = ids[i % len(ids)]
                body = {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": point(self.rng)},
                    "properties": {"severity": self.rng.choice(SEVERITIES)},
                }
                for _ in range(3):
                    version = self.versions[oid]
                    r = await http.patch(
                        f"/api/incidents/{oid}", json=body, headers={"If-Match": f'"{version}"'}
                    )
                    if r.status_code == 200:
                        self.versions[oid] = r.json()["properties"]["version"]
                        break
                    self.versions[oid] = r.json()["properties"]["version"]

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(8)))
        self.say(f"  {self.args.changes} changes in {time.monotonic() - started:.0f} s")

    async def stream(self, http: httpx.AsyncClient, stop: asyncio.Event) -> None:
        """--rate changes per second to the loaded incidents, until `stop`."""
        ids = list(self.versions)
        interval = 1 / self.args.rate
        i = 0
        while not stop.is_set():
            oid = ids[i % len(ids)]
            i += 1
            body = {"type": "Feature", "properties": {"severity": self.rng.choice(SEVERITIES)}}
            r = await http.patch(
                f"/api/incidents/{oid}",
                json=body,
                headers={"If-Match": f'"{self.versions[oid]}"'},
            )
            self.versions[oid] = r.json()["properties"]["version"]
            self.writes += r.status_code == 200
            await asyncio.sleep(interval)

    def frames(self, measured: dict[str, Any]) -> dict[str, Any]:
        return {
            "applied_per_s": round(measured["applied_per_s"], 1),
            "replayed_per_s": None
            if measured["replayed_per_s"] is None
            else round(measured["replayed_per_s"], 1),
            "replay_minutes": None
            if measured["replay_minutes"] is None
            else round(measured["replay_minutes"], 1),
            "frame_ms": quantiles(measured["intervals"]),
            "map_fps": round(measured["map_fps"], 1),
        }

    async def run(self) -> None:
        from playwright.async_api import async_playwright

        args = self.args
        if not (PROJECT_ROOT / "app" / "static" / "index.html").exists():
            raise SystemExit("the dashboard is not built: run `npm run build --prefix frontend`")
        self.say(f"database {self.db_name}, server {self.url}")
        await asyncio.to_thread(self.prepare_database)
        await self.seed_accounts()
        self.start_server()
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as writer:
            writer.headers["Authorization"] = (
                f"Bearer {(await self.login(writer, 'bench-writer'))['access_token']}"
            )
            self.say(f"seeding {args.incidents} incidents, {args.zones} zones")
            await self.seed_picture(writer)
            self.say(f"writing {args.changes} changes, to be yesterday's")
            await self.seed_day(writer)
        await asyncio.to_thread(self.stop_server)
        self.records = await spread_over(
            self.database_url, self.day_start, self.day_start + timedelta(days=1)
        )
        self.say(f"  {self.records} records spread over {self.day_start:%Y-%m-%d} (Brussels)")
        self.start_server()

        async with httpx.AsyncClient(base_url=self.url, timeout=60) as writer:
            writer.headers["Authorization"] = (
                f"Bearer {(await self.login(writer, 'bench-writer'))['access_token']}"
            )
            session = await self.login(writer, "bench")
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context, page, blocked = await self.open_page(browser, session)
                await page.goto(self.url + "/")
                await page.wait_for_selector("body[data-ready=true]", timeout=120_000)

                self.say(f"live: {args.rate} changes/s for {args.seconds} s")
                stop = asyncio.Event()
                writing = asyncio.create_task(self.stream(writer, stop))
                await asyncio.sleep(2)
                written, started = self.writes, time.monotonic()
                live = await page.evaluate(MEASURE, [args.seconds * 1000, False])
                sent = (self.writes - written) / (time.monotonic() - started)
                stop.set()
                await writing
                self.figures["live"] = self.frames(live)
                # What the writer achieved, not what it aimed at (a loaded machine writes less).
                self.figures["live"]["sent_per_s"] = round(sent, 1)

                self.say(f"replay: yesterday from 00:00 at ×{SPEED} for {args.seconds} s")
                start_ms = int(self.day_start.timestamp() * 1000)
                end_ms = start_ms + 86_400_000
                await page.evaluate(
                    """async ([start, end, speed]) => {
                        const control = window.sitcen.panels.replay;
                        control.window = { from: start, to: end };
                        await control.open(start);
                        window.sitcen.replay.setSpeed(speed);
                        window.sitcen.replay.play();
                    }""",
                    [start_ms, end_ms, SPEED],
                )
                replay = await page.evaluate(MEASURE, [args.seconds * 1000, True])
                self.figures["replay"] = self.frames(replay)
                self.figures["requests_blocked"] = blocked
                self.figures["load_average"] = [round(x, 1) for x in os.getloadavg()]
                await context.close()
                await browser.close()
        self.report()

    def report(self) -> None:
        f = self.figures
        live, replay = f["live"], f["replay"]
        per_day = self.records
        floor = per_day * SPEED / 86_400
        self.say("")
        self.say("== replay figures")
        self.say(
            f"feed: {per_day} records over one day; at ×{SPEED} the day holds {floor:.1f} "
            "changes per second of replay (the floor a replay must keep up with)"
        )
        measured = replay["replayed_per_s"] or 0.0
        self.say(
            f"replay ×{SPEED}: {measured} changes applied/s (floor {floor:.1f}, ratio "
            f"{measured / floor if floor else float('nan'):.2f}); {replay['replay_minutes']} min "
            f"of the day played in {self.args.seconds} s (expected "
            f"{SPEED * self.args.seconds / 60:.0f} min, ratio "
            f"{(replay['replay_minutes'] or 0) / (SPEED * self.args.seconds / 60):.2f})"
        )
        sent = live["sent_per_s"]
        ratio = live["applied_per_s"] / max(sent, 0.1)
        self.say(
            f"live: {live['applied_per_s']} changes applied/s (written {sent}/s, aimed at "
            f"{self.args.rate}/s; ratio applied/written {ratio:.2f})"
        )
        for name, fig in (("live", live), ("replay", replay)):
            q = fig["frame_ms"]
            self.say(
                f"frame cadence {name}: p50 {q.get('p50')} ms, p95 {q.get('p95')} ms, "
                f"p99 {q.get('p99')} ms over {q.get('n')} frames; map {fig['map_fps']} frames/s"
            )
        lp95, rp95 = live["frame_ms"].get("p95"), replay["frame_ms"].get("p95")
        if lp95 and rp95:
            self.say(f"replay / live frame p95: {rp95 / lp95:.2f}")
        if live["map_fps"]:
            self.say(f"replay / live map frames/s: {replay['map_fps'] / live['map_fps']:.2f}")
        self.say(f"requests that tried to leave the machine: {len(f['requests_blocked'])}")
        self.say(f"load average (1, 5, 15 min): {f['load_average']} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=500)
    parser.add_argument("--zones", type=int, default=50)
    parser.add_argument("--changes", type=int, default=5000, help="the day's changes")
    parser.add_argument("--rate", type=float, default=20.0, help="live changes per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="each measurement's length")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    bench = ReplayBench(args)
    try:
        asyncio.run(bench.run())
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
