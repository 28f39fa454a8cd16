"""Activation board benchmark (issue 16): the board's first render and a task change reaching
its DOM, with a big crisis cell beside an empty one, in the same page and the same run.

    .venv/bin/python bench/board.py
    .venv/bin/python bench/board.py --positions 40 --tasks 300 --decisions 500 --documents 200

Starts its own database and one uvicorn worker (as bench/dashboard.py does), opens two GCC
activations through the API, signs in a coordinator in Debian's Chromium (SwiftShader WebGL, as
in the browser tests), then injects the big cell's objects into the page's store through the
app's handle (`window.sitcen.store.applyFeature`, the path a write's answer takes; the board
reads the store whatever brought an object there). Kinds this server does not serve yet are
made readable in the page (`window.sitcen.permissions`) so that their sections are drawn.

Measured, for the empty board and the big one in turn:
- first render: `board.open(id)` → the end of the next frame after it (rows built, styled,
  laid out and painted), over --opens openings;
- a task change to the DOM (not the map): a new version of one task (its status flips) put
  in the store → the board's next flush written (it redraws per frame), p50/p95, over
  --changes changes; with the flush's own work and the rows it wrote.

Figures, not pass/fail; the load average is printed with them (a shared 2-core machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.dashboard import CHROMIUM, CHROMIUM_ARGS, Bench, quantiles  # noqa: E402

ROLES = ["high_official", "coordinator", "duty_officer", "d1", "d2", "d3", "d4", "d5"]
ROLES += ["partner_liaison", "log_keeper", "communication_officer", "other"]
PRESENCES = ["expected", "paged", "acknowledged", "present", "remote", "declined"]
TASK_STATUSES = ["open", "in_progress", "blocked", "done", "cancelled"]
PRIORITIES = ["low", "normal", "high", "urgent"]
CONTENT_TYPES = ["application/pdf", "image/png", "image/jpeg", "message/rfc822"]
READABLE = ["position", "task", "checklist", "decision", "document"]

OPEN_BOARD = """async (id) => {
    const board = window.sitcen.panels.board;
    board.close();
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const started = performance.now();
    board.open(id);
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return {
        ms: performance.now() - started,
        build_ms: board.metrics.firstRenderMs,
        sections: board.metrics.sections,
        rows: document.querySelectorAll('#board [data-row]').length,
        nodes: document.querySelectorAll('#board *').length,
    };
}"""

# Each change flips one task between open and in progress (so it moves between groups), with
# a new version, as a change on /ws would bring it; timed until the board's flush wrote it.
CHANGE_TASKS = """async ([ids, n]) => {
    const app = window.sitcen;
    const board = app.panels.board;
    const out = [];
    for (let i = 0; i < n; i += 1) {
        const held = app.store.get('task', ids[i % ids.length]);
        const p = held.properties;
        const status = p.status === 'open' ? 'in_progress' : 'open';
        const next = { ...held, properties: { ...p, status, version: p.version + 1 } };
        const flushes = board.metrics.flushes;
        const started = performance.now();
        app.store.applyFeature('task', next);
        await new Promise((resolve) => {
            const wait = () => {
                if (board.metrics.flushes > flushes) resolve();
                else requestAnimationFrame(wait);
            };
            requestAnimationFrame(wait);
        });
        const written = performance.now() - started;
        const flush = board.metrics.lastFlush;
        const shown = document.querySelector(`#board [data-row="${held.id}"]`)?.dataset.status;
        if (shown !== status) throw new Error(`task ${held.id} shows ${shown}, not ${status}`);
        out.push({ ms: written, flush_ms: flush.ms, drawn: flush.drawn, moved: flush.moved });
        // The next change starts on a quiet page, as a change arriving alone would.
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    }
    return out;
}"""


def feature(fid: str, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": None, "properties": {"version": 1, **props}}


def at(base: float, minutes: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + minutes * 60))


def big_cell(rng: random.Random, activation: str, args: argparse.Namespace) -> list[list[Any]]:
    """[entity, Feature] pairs of a big crisis cell (ids unique to this activation)."""
    now = time.time()
    out: list[list[Any]] = []
    a = {"activation_id": activation}
    positions = []
    for i in range(args.positions):
        pid = f"bench-pos-{i}"
        positions.append(pid)
        presence = rng.choice(PRESENCES)
        props = {**a, "title": f"Poste {i}", "role": rng.choice(ROLES), "presence": presence}
        props["holder_user"] = f"agent{i}"
        if presence in ("present", "remote"):
            props["arrived_at"] = at(now, -rng.uniform(5, 300))
        out.append(["position", feature(pid, props)])
    for i in range(args.tasks):
        status = rng.choice(TASK_STATUSES)
        props = {
            **a,
            "title": f"Tâche {i}",
            "status": status,
            "priority": rng.choice(PRIORITIES),
            "due_at": at(now, rng.uniform(-240, 240)),
            "owner_position_id": rng.choice(positions) if positions else None,
            "zone_ids": [],
        }
        if status == "blocked":
            props["blocked_reason"] = "En attente du partenaire"
        out.append(["task", feature(f"bench-task-{i}", props)])
    for i in range(args.checklists):
        items = [
            {"key": f"i{k}", "text": {"fr": f"Point {k}", "nl": f"Punt {k}", "en": f"Item {k}"}}
            | {"state": rng.choice(["open", "done", "not_applicable"])}
            for k in range(12)
        ]
        done = sum(1 for item in items if item["state"] != "open")
        props = {**a, "title": f"Procédure {i}", "items": items, "done": done, "total": 12}
        props["status"] = "completed" if done == 12 else "open"
        out.append(["checklist", feature(f"bench-check-{i}", props)])
    for i in range(args.decisions):
        props = {
            **a,
            "title": f"Décision {i}",
            "description": "Fermeture du périmètre et déviation des transports en commun.",
            "decided_at": at(now, -args.decisions + i),
            "decided_by_name": "Haut fonctionnaire",
            "decided_by_position_id": positions[0] if positions else None,
            "basis": "Avis de la D1",
            "chain_seq": i + 1,
        }
        # One decision in ten corrects an earlier one: the pairs are drawn side by side.
        if i and i % 10 == 0:
            props["corrects_id"] = f"bench-dec-{rng.randrange(i)}"
        out.append(["decision", feature(f"bench-dec-{i}", props)])
    for i in range(args.documents):
        props = {
            **a,
            "title": f"Document {i}",
            "filename": f"document-{i}.pdf",
            "content_type": rng.choice(CONTENT_TYPES),
            "size": rng.randrange(10_000, 20_000_000),
            "shareable": rng.random() < 0.5,
            "current_version": 1,
            "updated_at": at(now, -i),
        }
        out.append(["document", feature(f"bench-doc-{i}", props)])
    return out


class BoardBench(Bench):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        self.db_name = f"sitcen_bench_board_{os.getpid()}"

    async def open_activation(self, http: httpx.AsyncClient, title: str) -> str:
        r = await http.post(
            "/api/activations",
            json={
                "type": "Feature",
                "geometry": None,
                "properties": {"title": title, "level": "crisis_cell"},
            },
        )
        r.raise_for_status()
        activation: str = r.json()["id"]
        return activation

    async def run(self) -> None:
        from playwright.async_api import async_playwright

        args = self.args
        if not (PROJECT_ROOT / "app" / "static" / "index.html").exists():
            raise SystemExit("the dashboard is not built: run `bash scripts/setup.sh` first")
        self.say(f"database {self.db_name}, server {self.url}")
        await asyncio.to_thread(self.prepare_database)
        await self.seed_accounts()
        self.start_server()
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as http:
            session = await self.login(http, "bench")
            http.headers["Authorization"] = f"Bearer {session['access_token']}"
            empty = await self.open_activation(http, "GCC — cellule vide")
            big = await self.open_activation(http, "GCC — grande cellule")
            cell = big_cell(self.rng, big, args)
            lone = feature(
                "bench-lone-task",
                {"activation_id": empty, "title": "Seule tâche", "status": "open"},
            )
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context, page, blocked = await self.open_page(browser, session)
                await page.goto(self.url + "/")
                await page.wait_for_selector("body[data-ready=true]", timeout=120_000)
                await page.evaluate(
                    """([kinds, objects]) => {
                        for (const kind of kinds) window.sitcen.permissions.add(`${kind}:read`);
                        const store = window.sitcen.store;
                        for (const [entity, f] of objects) store.applyFeature(entity, f);
                    }""",
                    [READABLE, [*cell, ["task", lone]]],
                )
                held = await page.evaluate(
                    "(id) => ['position','task','checklist','decision','document'].map("
                    "(e) => [...window.sitcen.store.all(e)]"
                    ".filter((f) => f.properties.activation_id === id).length)",
                    big,
                )
                self.say(f"big cell in the store: {dict(zip(READABLE, held, strict=True))}")
                task_ids = [
                    f["id"]
                    for entity, f in cell
                    if entity == "task" and f["properties"]["status"] in ("open", "in_progress")
                ]
                sides: dict[str, dict[str, Any]] = {}
                for name, activation, ids in (
                    ("empty", empty, ["bench-lone-task"]),
                    ("big", big, task_ids),
                ):
                    self.say(f"{name} board: {args.opens} openings, {args.changes} task changes")
                    opens = [await page.evaluate(OPEN_BOARD, activation) for _ in range(args.opens)]
                    changes = await page.evaluate(CHANGE_TASKS, [ids, args.changes])
                    sides[name] = {
                        "first_render_ms": quantiles([o["ms"] for o in opens]),
                        "build_ms": quantiles([o["build_ms"] for o in opens]),
                        "section_build_ms_p50": {
                            section: quantiles([o["sections"][section] for o in opens]).get("p50")
                            for section in opens[-1]["sections"]
                        },
                        "rows": opens[-1]["rows"],
                        "board_dom_nodes": opens[-1]["nodes"],
                        "task_change_to_dom_ms": quantiles([c["ms"] for c in changes]),
                        "flush_work_ms": quantiles([c["flush_ms"] for c in changes]),
                        "rows_drawn_per_change": max(c["drawn"] for c in changes),
                        "rows_moved_per_change": max(c["moved"] for c in changes),
                    }
                    self.say(f"  {json.dumps(sides[name])}")
                self.figures.update(
                    {
                        "sides": sides,
                        "requests_blocked": blocked,
                        "load_average": [round(x, 1) for x in os.getloadavg()],
                    }
                )
                await context.close()
                await browser.close()
        self.report()

    def report(self) -> None:
        f = self.figures
        out = PROJECT_ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"board-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps(f, indent=2))
        empty, big = f["sides"]["empty"], f["sides"]["big"]
        a = self.args
        self.say("")
        self.say("== activation board figures")
        self.say(
            f"big cell: {a.positions} positions, {a.tasks} tasks, {a.checklists} checklists, "
            f"{a.decisions} decisions, {a.documents} documents ({big['rows']} rows, "
            f"{big['board_dom_nodes']} DOM nodes); empty: {empty['rows']} row(s)"
        )

        def line(label: str, key: str, q: str) -> None:
            e, b = empty[key].get(q), big[key].get(q)
            ratio = f"{b / e:.1f}x" if e else "n/a"
            self.say(f"{label} {q}: empty {e} ms, big {b} ms, ratio {ratio}")

        line("first render (open -> next frame painted)", "first_render_ms", "p50")
        line("first render (open -> next frame painted)", "first_render_ms", "p95")
        line("  of which open()'s own work (DOM built, laid out)", "build_ms", "p95")
        self.say(f"  building, by section (big board, p50 ms): {big['section_build_ms_p50']}")
        line("task change -> board DOM written", "task_change_to_dom_ms", "p50")
        line("task change -> board DOM written", "task_change_to_dom_ms", "p95")
        line("  of which the flush's own work", "flush_work_ms", "p95")
        self.say(
            f"rows drawn per task change, at most: empty {empty['rows_drawn_per_change']}, "
            f"big {big['rows_drawn_per_change']} (moved: {big['rows_moved_per_change']})"
        )
        self.say(f"requests that tried to leave the machine: {len(f['requests_blocked'])}")
        self.say(f"load average (1, 5, 15 min): {f['load_average']} on {os.cpu_count()} cores")
        self.say(f"figures written to {path.relative_to(PROJECT_ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=40)
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--checklists", type=int, default=10)
    parser.add_argument("--decisions", type=int, default=500)
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--opens", type=int, default=20, help="board openings timed per side")
    parser.add_argument("--changes", type=int, default=200, help="task changes timed per side")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--keep-db", action="store_true", help="leave the database")
    args = parser.parse_args()
    args.database = None
    bench = BoardBench(args)
    try:
        asyncio.run(bench.run())
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
