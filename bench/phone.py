"""Phone benchmark (issue 21, "How it is checked"): the phone's first picture on a throttled
network beside the same page's desktop figure, in the same run.

    .venv/bin/python bench/phone.py
    .venv/bin/python bench/phone.py --incidents 300 --zones 30 --loads 1     # a quick look

Starts its own database and one uvicorn worker and loads the picture through the API, as
bench/dashboard.py does (its Bench: database, accounts, server, seeding, a signed-in page, the
first-picture metric). Then, each load in a fresh browser context (nothing cached, no service
worker yet: a first visit), median of --loads:

- desktop: 1440x900, the network unthrottled;
- phone: 390x844, mobile emulation (is_mobile, touch, device pixel ratio 3) and Chrome
  DevTools' "Fast 3G" profile through the DevTools protocol (Network.emulateNetworkConditions
  on a CDP session: 562.5 ms latency, 1.44 Mbit/s down, 675 kbit/s up); optionally a CPU
  slowed down too (--cpu-slowdown, Emulation.setCPUThrottlingRate);
- phone, installed: the same phone context loaded again once the service worker controls it
  (the application shell and the reference layers from its caches; the picture itself from
  the network, throttled).

"First picture" is the dashboard's own `window.sitcen.metrics.firstPicture`: navigation start
to the map drawn with the picture (lists read, sources loaded, the frame rasterised). Printed:
each figure, the bytes the page received over the network, and the phone / desktop ratio. The
machine's load average is printed with them (a shared 2-core machine, software WebGL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.dashboard import CHROMIUM, CHROMIUM_ARGS, Bench  # noqa: E402

DESKTOP = (1440, 900)
PHONE = (390, 844)
PHONE_OPTIONS = {"is_mobile": True, "has_touch": True, "device_scale_factor": 3}
# Chrome DevTools' "Fast 3G" preset (front_end/core/sdk/NetworkManager.ts): 1.6 Mbit/s down,
# 750 kbit/s up, 150 ms, each scaled as DevTools does (x0.9 throughput, x3.75 latency).
FAST_3G = {
    "offline": False,
    "latency": 150 * 3.75,
    "downloadThroughput": 1.6 * 1000 * 1000 / 8 * 0.9,
    "uploadThroughput": 750 * 1000 / 8 * 0.9,
    "connectionType": "cellular3g",
}
CONTROLLED = "() => navigator.serviceWorker.controller?.state === 'activated'"


class PhoneBench(Bench):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        self.db_name = args.database or f"sitcen_bench_phone_{os.getpid()}"

    async def load(
        self,
        browser: Any,
        session: dict[str, Any],
        size: tuple[int, int],
        *,
        phone: bool,
        installed: bool = False,
    ) -> dict[str, Any]:
        """One first visit (a fresh context), or with `installed` the visit after it."""
        context, page, blocked = await self.open_page(
            browser, session, *size, context_options=PHONE_OPTIONS if phone else None
        )
        cdp = await context.new_cdp_session(page)
        received = {"bytes": 0}
        cdp.on(
            "Network.loadingFinished",
            lambda event: received.__setitem__(
                "bytes", received["bytes"] + event["encodedDataLength"]
            ),
        )
        await cdp.send("Network.enable")
        if phone:
            await cdp.send("Network.emulateNetworkConditions", FAST_3G)
            if self.args.cpu_slowdown > 1:
                await cdp.send("Emulation.setCPUThrottlingRate", {"rate": self.args.cpu_slowdown})
        figures = await self.visit(page, received)
        if installed:
            await page.wait_for_function(CONTROLLED, timeout=120_000)
            # Let the worker keep the reference layers, read again through it (app.js).
            for _ in range(600):
                if await page.evaluate("() => caches.has('sitcen-reference-v1')"):
                    break
                await asyncio.sleep(0.1)
            received["bytes"] = 0
            figures = await self.visit(page, received, reload=True)
        figures["requests_blocked"] = blocked
        await context.close()
        return figures

    async def visit(self, page: Any, received: dict[str, int], reload: bool = False) -> Any:
        if reload:
            await page.reload()
        else:
            await page.goto(self.url + "/")
        await page.wait_for_selector("body[data-ready=true]", timeout=300_000)
        metrics = await page.evaluate(
            """() => ({ first: window.sitcen.metrics.firstPicture,
                        lists: window.sitcen.metrics.snapshotLoaded,
                        incidents: window.sitcen.store.count('incident'),
                        controlled: Boolean(navigator.serviceWorker.controller) })"""
        )
        return {
            "first_picture_ms": round(metrics["first"]),
            "lists_read_ms": round(metrics["lists"]),
            "incidents": metrics["incidents"],
            "served_by_service_worker": metrics["controlled"],
            "received_kib": round(received["bytes"] / 1024),
        }

    async def side(self, browser: Any, session: dict[str, Any], name: str, **kw: Any) -> Any:
        runs = []
        for _ in range(self.args.loads):
            figures = await self.load(browser, session, **kw)
            self.say(
                f"  {name}: first picture {figures['first_picture_ms'] / 1000:.2f} s "
                f"(lists read {figures['lists_read_ms'] / 1000:.2f} s, "
                f"{figures['received_kib']} KiB over the network, "
                f"{figures['incidents']} incidents, "
                f"shell from the service worker: {figures['served_by_service_worker']})"
            )
            runs.append(figures)
        return {"runs": runs, "median_ms": statistics.median(r["first_picture_ms"] for r in runs)}

    async def run(self) -> None:
        from playwright.async_api import async_playwright

        args = self.args
        if not (PROJECT_ROOT / "app" / "static" / "sw.js").exists():
            raise SystemExit("the dashboard is not built: run `npm run build --prefix frontend`")
        self.say(f"database {self.db_name}, server {self.url}")
        await asyncio.to_thread(self.prepare_database)
        if not args.database:
            await self.seed_accounts()
        self.start_server()
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as http:
            http.headers["Authorization"] = (
                f"Bearer {(await self.login(http, 'bench-writer'))['access_token']}"
            )
            if not args.database:
                self.say(f"seeding {args.incidents} incidents and {args.zones} zones")
                await self.seed_picture(http)
            session = await self.login(http, "bench")
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            self.say(f"desktop {DESKTOP[0]}x{DESKTOP[1]}, unthrottled, first visit")
            desktop = await self.side(browser, session, "desktop", size=DESKTOP, phone=False)
            self.say(f"phone {PHONE[0]}x{PHONE[1]}, Fast 3G, first visit")
            phone = await self.side(browser, session, "phone", size=PHONE, phone=True)
            self.say(f"phone {PHONE[0]}x{PHONE[1]}, Fast 3G, installed (service worker)")
            installed = await self.side(
                browser, session, "phone installed", size=PHONE, phone=True, installed=True
            )
            await browser.close()
        self.figures.update(
            desktop=desktop,
            phone_fast_3g=phone,
            phone_fast_3g_installed=installed,
            network=FAST_3G,
            load_average=[round(x, 1) for x in os.getloadavg()],
        )
        self.report()

    def report(self) -> None:
        f = self.figures
        out = PROJECT_ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"phone-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps(f, indent=2))
        a = self.args
        desktop = f["desktop"]["median_ms"]
        self.say("")
        self.say("== the phone's first picture beside the desktop's (median of each)")
        self.say(f"incidents {a.incidents}, zones {a.zones}, {a.loads} load(s) each")
        self.say(f"desktop 1440x900, unthrottled:           {desktop / 1000:6.2f} s")
        for key, label in (
            ("phone_fast_3g", "phone 390x844, Fast 3G, first visit:"),
            ("phone_fast_3g_installed", "phone 390x844, Fast 3G, installed:  "),
        ):
            ms = f[key]["median_ms"]
            self.say(f"{label}     {ms / 1000:6.2f} s   ratio to desktop {ms / desktop:.2f}")
        blocked = sum(
            len(r["requests_blocked"])
            for k in ("desktop", "phone_fast_3g", "phone_fast_3g_installed")
            for r in f[k]["runs"]
        )
        self.say(f"requests that tried to leave the machine: {blocked}")
        self.say(f"load average (1, 5, 15 min): {f['load_average']} on {os.cpu_count()} cores")
        self.say(f"figures written to {path.relative_to(PROJECT_ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=2_000)
    parser.add_argument("--zones", type=int, default=200)
    parser.add_argument("--loads", type=int, default=3, help="page loads timed on each side")
    parser.add_argument(
        "--cpu-slowdown", type=float, default=1.0, help="phone CPU slowdown (DevTools: 4)"
    )
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--keep-db", action="store_true", help="leave the database for a rerun")
    parser.add_argument("--database", help="reuse a database kept by --keep-db (no seeding)")
    args = parser.parse_args()
    bench = PhoneBench(args)
    try:
        asyncio.run(bench.run())
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
