"""Fan-out benchmark of /ws: many WebSocket clients, a steady writer through the HTTP API.

    .venv/bin/python bench/ws_fanout.py --clients 500 --rate 50 --seconds 60

Starts its own database (on the project-local PostGIS cluster) and one uvicorn worker, spawns
client processes (separate from the server), writes incidents at --rate per second through
POST /api/incidents, and prints: messages delivered, lost and duplicated, commit-to-receive
latency percentiles (commit time = the change's `at`, same machine clock), server RSS per
client. Then the relay floor (issue 19): the same writer again, through the same API and
PostgreSQL, while a bare asyncpg LISTEN + websockets broadcast() process relays each commit's
NOTIFY payload (the whole change message, put there by a trigger installed for this phase only)
to the same lean clients; it prints floor, sitcen and the ratio of the commit-to-receive p99
(target <= 1.5x, 0 lost, 0 duplicated) as PASS/MISS. Then a bare `websockets` broadcast server
gets the same messages and the same clients, and both are pushed to saturation (a burst larger
than they can deliver at once) to compare delivered messages per second. See
docs/performance.md and docs/realtime.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
import uuid
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import uvloop

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import leanws  # noqa: E402
from leanws import LeanClient  # noqa: E402
from procstat import cpu_seconds, machine_busy, machine_speed, rss_mib  # noqa: E402

from app import devserver  # noqa: E402
from app.devserver import free_port  # noqa: E402

REFERENCE_DIR = PROJECT_ROOT.parent / "shared" / "data" / "brussels"
PASSWORD = "bench password, not a secret"
READY_TIMEOUT = 120.0
DRAIN_TIMEOUT = 60.0
CONNECT_CONCURRENCY = 25
WRITERS = 16  # concurrent HTTP writers pacing themselves on the schedule
# A client process reports every latency it measured on one line.
REPORT_LIMIT = 2**28
CATEGORIES = ["fire", "traffic", "public_order", "health", "utility_outage", "flooding_storm"]
SEVERITIES = ["minor", "moderate", "severe", "extreme"]


# ---------------------------------------------------------------- client processes


@dataclass
class ClientRecord:
    seqs: array[int] = field(default_factory=lambda: array("q"))
    received_at: array[float] = field(default_factory=lambda: array("d"))
    latencies: array[float] = field(default_factory=lambda: array("d"))
    close_code: int | None = None
    target: float = float("inf")  # the last seq the parent expects, once it has said
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def reached(self) -> bool:
        return self.close_code is not None or (bool(self.seqs) and self.seqs[-1] >= self.target)


class _Receiver:
    """One connection's events into its record (a leanws.Handler)."""

    def __init__(self, record: ClientRecord, ready: asyncio.Event, bare: bool) -> None:
        self.record, self.ready, self.bare = record, ready, bare

    def opened(self, client: LeanClient) -> None:
        if self.bare:
            self.ready.set()  # the bare server says nothing back to a hello

    def line(self, client: LeanClient, raw: bytes, now: float) -> None:
        record = self.record
        if raw[:17] == b'{"type":"change",':
            seq, at = _change_head(raw)
            record.seqs.append(seq)
            record.received_at.append(now)
            record.latencies.append(now - at)
            if seq >= record.target:
                record.done.set()
        elif b'"live"' in raw:
            self.ready.set()

    def ended(self, code: int) -> None:
        if self.record.close_code is None:
            self.record.close_code = code
        self.ready.set()
        self.record.done.set()


async def _one_client(
    url: str, token: str, record: ClientRecord, ready: asyncio.Event, bare: bool
) -> None:
    hello = orjson.dumps({"type": "hello", "token": token, "since": None})
    await leanws.connect(url, hello, _Receiver(record, ready, bare))


def _change_head(raw: bytes) -> tuple[int, float]:
    """The seq and commit time of a change message, read from its head (they precede the
    Feature; see change_message) rather than parsing the whole message, for the same reason."""
    seq_at = raw.find(b'"seq":', 17)
    at_at = raw.find(b'"at":"', seq_at)
    if seq_at < 0 or at_at < 0:
        message = orjson.loads(raw)
        return message["seq"], datetime.fromisoformat(message["at"]).timestamp()
    seq = int(raw[seq_at + 6 : raw.index(b",", seq_at)])
    at = datetime.fromisoformat(raw[at_at + 6 : raw.index(b'"', at_at + 6)].decode()).timestamp()
    return seq, at


def _report(records: list[ClientRecord], ranges: list[tuple[str, int, int]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, first, last in ranges:
        expected = last - first + 1
        delivered = lost = duplicated = disordered = 0
        latencies: list[float] = []
        last_received = 0.0
        for r in records:
            picked = [i for i, s in enumerate(r.seqs) if first <= s <= last]
            seqs = [r.seqs[i] for i in picked]
            delivered += len(seqs)
            unique = set(seqs)
            duplicated += len(seqs) - len(unique)
            lost += expected - len(unique)
            disordered += sum(1 for a, b in itertools.pairwise(seqs) if b <= a)
            latencies += [r.latencies[i] for i in picked]
            if picked:
                last_received = max(last_received, r.received_at[picked[-1]])
        out[name] = {
            "delivered": delivered,
            "lost": lost,
            "duplicated": duplicated,
            "disordered": disordered,
            "latencies": latencies,
            "last_received": last_received,
        }
    out["closed"] = sorted(r.close_code for r in records if r.close_code is not None)
    return out


async def client_process(url: str, token: str, count: int, bare: bool) -> None:
    """Role `clients`: `count` connections; prints `ready`, then a report when asked on stdin."""
    records = [ClientRecord() for _ in range(count)]
    readies = [asyncio.Event() for _ in range(count)]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    running: set[asyncio.Task[None]] = set()

    async def start(i: int) -> None:
        async with gate:
            running.add(asyncio.create_task(_one_client(url, token, records[i], readies[i], bare)))
            await readies[i].wait()

    await asyncio.gather(*(start(i) for i in range(count)))
    print(json.dumps({"ready": sum(r.close_code is None for r in records)}), flush=True)
    while True:
        command = json.loads(await asyncio.to_thread(sys.stdin.readline))
        if "wait" in command:
            reached = await _drain(records, command["wait"])
            print(json.dumps({"reached": reached}), flush=True)
            continue
        ranges = [tuple(r) for r in command["report"]]
        await _drain(records, max(r[2] for r in ranges))
        print(json.dumps(_report(records, ranges)), flush=True)  # type: ignore[arg-type]
        os._exit(0)  # the connections' close handshakes do not matter here


async def _drain(records: list[ClientRecord], seq: int) -> int:
    """Wait until every client has seq (or is closed), DRAIN_TIMEOUT at most; how many have."""
    for record in records:
        record.target = seq
        record.done.clear()
        if record.reached():
            record.done.set()
    try:
        async with asyncio.timeout(DRAIN_TIMEOUT):
            await asyncio.gather(*(r.done.wait() for r in records))
    except TimeoutError:
        pass  # what has not arrived by now counts as lost
    return sum(r.reached() for r in records)


# ---------------------------------------------------------------- bare broadcast server


async def bare_server(port: int) -> None:
    """Role `bare`: websockets' own broadcast() to every client of what /publish sends."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve
    from websockets.exceptions import ConnectionClosed

    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        if ws.request is not None and ws.request.path == "/publish":
            async for message in ws:
                broadcast(clients, message)
            return
        clients.add(ws)
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass  # client processes exit without closing
        finally:
            clients.discard(ws)

    async with serve(
        handler, "127.0.0.1", port, compression=None, max_size=2**22, ping_interval=None
    ):
        print(json.dumps({"ready": True}), flush=True)
        await asyncio.Future()


# ---------------------------------------------------------------- the relay floor

RELAY_CHANNEL = "bench_relay"
# Installed for the relay's run only (and dropped after): at commit, when the feed's trigger
# numbers a change record, the whole change message goes out as the NOTIFY payload, in the wire
# form of app.domain.changes.change_message, `at` the commit time sitcen also sends.
RELAY_TRIGGER = f"""
CREATE OR REPLACE FUNCTION bench_relay_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{RELAY_CHANNEL}',
        '{{"type":"change","seq":' || NEW.seq || ',"entity":' || to_json(NEW.entity)::text
        || ',"op":' || to_json(NEW.op)::text || ',"id":"' || NEW.entity_id::text
        || '","version":' || NEW.version || ',"at":' || to_json(NEW.at)::text
        || ',"by":' || to_json(NEW.actor)::text || ',"feature":' || NEW.feature::text || '}}');
    RETURN NULL;
END $$;
CREATE TRIGGER bench_relay AFTER UPDATE OF seq ON changes FOR EACH ROW
    WHEN (NEW.seq IS NOT NULL) EXECUTE FUNCTION bench_relay_notify();
"""
RELAY_DROP = "DROP TRIGGER bench_relay ON changes; DROP FUNCTION bench_relay_notify();"


async def relay_server(port: int, database_url: str) -> None:
    """Role `relay`: the floor of sitcen's live path. One asyncpg connection LISTENs, and each
    NOTIFY payload goes as it is to every client with websockets' broadcast(): no hello, no
    scope, no filter, no catch-up, no reading of the feed."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve
    from websockets.exceptions import ConnectionClosed

    clients: set[ServerConnection] = set()
    connection = await asyncpg.connect(database_url)
    await connection.add_listener(
        RELAY_CHANNEL, lambda _c, _pid, _channel, payload: broadcast(clients, payload)
    )

    async def handler(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass
        finally:
            clients.discard(ws)

    async with serve(
        handler, "127.0.0.1", port, compression=None, max_size=2**22, ping_interval=None
    ):
        print(json.dumps({"ready": True}), flush=True)
        await asyncio.Future()


# ---------------------------------------------------------------- the run


def percentiles(values: list[float]) -> str:
    if not values:
        return "n/a"
    q = statistics.quantiles(values, n=100, method="inclusive")
    return (
        f"p50 {q[49] * 1000:.1f} ms, p95 {q[94] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, "
        f"max {max(values) * 1000:.1f} ms"
    )


@dataclass
class Bench:
    args: argparse.Namespace
    database_url: str = ""
    base_url: str = ""
    db_name: str = ""
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    server: subprocess.Popen[bytes] | None = None
    token: str = ""
    port: int = 0
    clients_cpu: float = 0.0

    def say(self, text: str) -> None:
        print(text, flush=True)

    # -- setup

    def prepare_database(self) -> None:
        from app import localdb
        from app.db import upgrade_database

        port = int(os.environ.get("SITCEN_LOCAL_PG_PORT", "54329"))
        self.base_url = localdb.ensure_cluster(PROJECT_ROOT / ".local", port)
        self.db_name = f"sitcen_bench_{os.getpid()}"
        self.database_url = localdb.ensure_database(self.base_url, self.db_name)
        upgrade_database(self.database_url)

    async def seed(self) -> None:
        from app.auth.roles import Role
        from app.auth.service import create_user
        from app.cli import load_reference
        from app.db import make_engine, make_sessionmaker, transaction
        from app.settings import Settings

        engine = make_engine(Settings(database_url=self.database_url, secret_key=self.secret))
        sessions = make_sessionmaker(engine)
        if REFERENCE_DIR.is_dir():
            await load_reference(sessions, [str(REFERENCE_DIR)])
        async with transaction(sessions) as session:
            await create_user(session, "bench", PASSWORD, Role.operator, actor="bench")
            await create_user(session, "bench-admin", PASSWORD, Role.admin, actor="bench")
        await engine.dispose()
        if not self.args.durable:
            # A change is visible, and notified, at commit; waiting for the disk to flush it
            # measures the disk (shared with everything else on this machine), not the fan-out.
            connection = await asyncpg.connect(self.database_url)
            await connection.execute(
                f'ALTER DATABASE "{self.db_name}" SET synchronous_commit = off'
            )
            await connection.close()

    def start_server(self, port: int) -> None:
        env = {
            **os.environ,
            "SITCEN_DATABASE_URL": self.database_url,
            "SITCEN_SECRET_KEY": self.secret,
        }
        env.pop("SITCEN_LOCAL_MODE", None)
        log = PROJECT_ROOT / "test-artifacts"
        log.mkdir(exist_ok=True)
        profile = ["-m", "cProfile", "-o", self.args.profile] if self.args.profile else []
        self.server = devserver.start(
            port, env, log / f"bench-{port}.log", python_args=profile, timeout=240
        )

    def stop_server(self) -> None:
        if self.server is not None:
            # SIGINT: uvicorn shuts down gracefully and a profiler around it gets to write.
            self.server.send_signal(signal.SIGINT)
            self.server.wait(60)
            self.server = None

    def cleanup(self) -> None:
        from app import localdb

        self.stop_server()
        if self.db_name and not self.args.keep_db:
            localdb.drop_database(self.base_url, self.db_name)
            self.db_name = ""

    # -- clients

    async def spawn_clients(self, url: str, bare: bool) -> list[asyncio.subprocess.Process]:
        per = [self.args.clients // self.args.procs] * self.args.procs
        per[0] += self.args.clients - sum(per)
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--role",
                "clients",
                "--url",
                url,
                "--token",
                self.token,
                "--count",
                str(n),
                *(["--bare"] if bare else []),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=REPORT_LIMIT,
            )
            for n in per
        ]
        async with asyncio.timeout(READY_TIMEOUT):
            ready = [json.loads(await p.stdout.readline())["ready"] for p in procs]  # type: ignore[union-attr]
        if sum(ready) != self.args.clients:
            raise RuntimeError(f"only {sum(ready)} of {self.args.clients} clients connected")
        return procs

    async def drained(self, procs: list[asyncio.subprocess.Process], seq: int) -> int:
        """Let the clients catch up to seq before the next phase; how many did."""
        request = (json.dumps({"wait": seq}) + "\n").encode()
        for p in procs:
            p.stdin.write(request)  # type: ignore[union-attr]
            await p.stdin.drain()  # type: ignore[union-attr]
        answers = [json.loads(await p.stdout.readline()) for p in procs]  # type: ignore[union-attr]
        return sum(int(a["reached"]) for a in answers)

    async def collect(
        self, procs: list[asyncio.subprocess.Process], ranges: list[tuple[str, int, int]]
    ) -> dict[str, Any]:
        request = (json.dumps({"report": ranges}) + "\n").encode()
        for p in procs:
            p.stdin.write(request)  # type: ignore[union-attr]
            await p.stdin.drain()  # type: ignore[union-attr]
        reports = [json.loads(await p.stdout.readline()) for p in procs]  # type: ignore[union-attr]
        for p in procs:
            await p.wait()
        merged: dict[str, Any] = {"closed": []}
        for report in reports:
            merged["closed"] += report.pop("closed")
            for name, figures in report.items():
                into = merged.setdefault(
                    name,
                    {
                        "delivered": 0,
                        "lost": 0,
                        "duplicated": 0,
                        "disordered": 0,
                        "latencies": [],
                        "last_received": 0.0,
                    },
                )
                for key in ("delivered", "lost", "duplicated", "disordered"):
                    into[key] += figures[key]
                into["latencies"] += figures["latencies"]
                into["last_received"] = max(into["last_received"], figures["last_received"])
        return merged

    # -- writers

    def incident(self, i: int) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [4.30 + random.random() * 0.12, 50.80 + random.random() * 0.08],
            },
            "properties": {
                "title": f"bench incident {i}",
                "category": random.choice(CATEGORIES),
                "severity": random.choice(SEVERITIES),
                "description": "written by bench/ws_fanout.py at a steady rate",
            },
        }

    async def write_at_rate(
        self, http: httpx.AsyncClient, seconds: int | None = None
    ) -> dict[str, Any]:
        count = self.args.rate * (seconds or self.args.seconds)
        durations: list[float] = []
        errors = 0

        async def one(i: int) -> None:
            nonlocal errors
            began = time.monotonic()
            # A keep-alive connection the server is closing fails the request; the key makes
            # the retry safe (the API answers the first object instead of creating another).
            headers = {"Idempotency-Key": f"bench-{uuid.uuid4()}"}
            for attempt in range(3):
                try:
                    r = await http.post("/api/incidents", json=self.incident(i), headers=headers)
                    break
                except httpx.TransportError:
                    if attempt == 2:
                        errors += 1
                        return
            durations.append(time.monotonic() - began)
            errors += r.status_code not in (200, 201)

        start = time.monotonic()
        todo = iter(range(count))

        async def writer() -> None:
            # Write i is due at start + i/rate; a writer behind schedule writes at once, so
            # the achieved rate shows when the API cannot keep up.
            for i in todo:
                delay = start + i / self.args.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await one(i)

        await asyncio.gather(*(writer() for _ in range(WRITERS)))
        return {
            "count": count,
            "errors": errors,
            "elapsed": time.monotonic() - start,
            "durations": durations,
        }

    async def inject_burst(self, count: int) -> float:
        """Saturation: `count` changes committed at once, straight into the feed, so that the
        server's work is the fan-out only, as the bare server's is; when they committed."""
        from app.db import make_engine, make_sessionmaker, transaction
        from app.domain.changes import append_change
        from app.domain.enums import ChangeOp, Entity
        from app.settings import Settings

        engine = make_engine(Settings(database_url=self.database_url, secret_key=self.secret))
        feature = await self.sample_feature()
        async with transaction(make_sessionmaker(engine)) as session:
            for _ in range(count):
                await append_change(
                    session,
                    entity=Entity.incident,
                    entity_id=uuid.uuid4(),
                    op=ChangeOp.created,
                    version=1,
                    actor="bench",
                    feature=feature,
                )
        committed = time.time()
        await engine.dispose()
        return committed

    async def sample_feature(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.http_url, headers=self.auth, timeout=30) as h:
            body = (await h.get("/api/changes", params={"since": 0, "limit": 1})).json()
        return dict(body["changes"][0]["feature"])

    async def head(self) -> int:
        async with httpx.AsyncClient(base_url=self.http_url, timeout=30) as h:
            return int((await h.get("/api/health")).json()["head"])

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    # -- phases

    async def run(self) -> None:
        args = self.args
        self.say(
            f"sitcen /ws fan-out: {args.clients} clients in {args.procs} processes, one "
            f"uvicorn worker (sitcen serve: websockets-sansio), writer {args.rate}/s x "
            f"{args.seconds} s via "
            f"HTTP; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; "
            f"synchronous_commit {'on' if args.durable else 'off'}; machine speed "
            f"{machine_speed():.0f} ms (a fixed loop: lower is faster)"
        )
        await self.seed()
        self.port = free_port()
        self.start_server(self.port)
        assert self.server is not None
        self.token = await self.login("bench")
        rss_idle = rss_mib(self.server.pid)
        procs = await self.spawn_clients(f"ws://127.0.0.1:{self.port}/ws", bare=False)
        rss_connected = rss_mib(self.server.pid)

        first = await self.head() + 1
        cpu0, busy0 = cpu_seconds(self.server.pid), machine_busy()
        clients0 = sum(cpu_seconds(p.pid) for p in procs)
        async with httpx.AsyncClient(
            base_url=self.http_url,
            headers=self.auth,
            timeout=60,
            limits=httpx.Limits(max_connections=WRITERS),
        ) as http:
            writes = await self.write_at_rate(http)
        cpu1, busy1 = cpu_seconds(self.server.pid), machine_busy()
        self.clients_cpu = sum(cpu_seconds(p.pid) for p in procs) - clients0
        last = await self.head()
        rss_end = rss_mib(self.server.pid)
        messages = await self.recorded_changes(first, args.rate * args.bare_seconds)
        hub = await self.hub_metrics()

        await self.drained(procs, last)
        burst_cpu = cpu_seconds(self.server.pid)
        burst_start = await self.inject_burst(args.burst)
        burst_last = await self.head()
        sitcen = await self.collect(procs, [("rate", first, last), ("burst", last + 1, burst_last)])
        sitcen["burst"]["cpu"] = cpu_seconds(self.server.pid) - burst_cpu
        sitcen["rate"]["cpu"] = cpu1 - cpu0
        self.print_sitcen(
            writes,
            last - first + 1,
            sitcen,
            (rss_idle, rss_connected, rss_end),
            (cpu1 - cpu0, busy0, busy1),
            hub,
        )
        relay = await self.run_relay()
        self.relay_verdict(sitcen["rate"], relay)
        self.stop_server()

        bare = await self.run_bare(messages)
        sitcen_rate = self.delivered_rate(sitcen["burst"], burst_start)
        bare_rate = self.delivered_rate(bare["burst"], bare["burst_start"])
        ours, theirs = cpu_per_thousand(sitcen["burst"]), cpu_per_thousand(bare["burst"])
        self.say(
            f"saturation, a burst of {args.burst} changes to {args.clients} clients: sitcen "
            f"{sitcen_rate:,.0f} msg/s delivered (lost {sitcen['burst']['lost']}, "
            f"{ours:.1f} ms server CPU per 1,000); bare websockets broadcast {bare_rate:,.0f} "
            f"msg/s (lost {bare['burst']['lost']}, {theirs:.1f} ms CPU per 1,000)"
        )
        self.say(
            f"sitcen/bare: delivered rate {ratio(sitcen_rate, bare_rate)}; messages per server "
            f"CPU-second {ratio(theirs, ours)} (the fairer figure when other work competes for "
            f"the CPU)"
        )
        shares = delivered_share(sitcen["rate"]), delivered_share(bare["rate"])
        self.say(
            f"at {args.rate}/s: sitcen delivered {shares[0]:.1%} of what was offered, bare "
            f"{shares[1]:.1%}"
        )

    async def login(self, username: str) -> str:
        async with httpx.AsyncClient(base_url=self.http_url, timeout=30) as h:
            r = await h.post("/api/auth/token", data={"username": username, "password": PASSWORD})
            r.raise_for_status()
            return str(r.json()["access_token"])

    async def recorded_changes(self, first: int, count: int) -> list[dict[str, Any]]:
        """The messages sitcen sent, to replay them through the bare server."""
        async with httpx.AsyncClient(base_url=self.http_url, headers=self.auth, timeout=30) as h:
            params = {"since": first - 1, "limit": count}
            body = (await h.get("/api/changes", params=params)).json()
        return [{"type": "change", **c} for c in body["changes"]]

    async def hub_metrics(self) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {await self.login('bench-admin')}"}
        async with httpx.AsyncClient(base_url=self.http_url, headers=headers, timeout=30) as h:
            return dict((await h.get("/api/realtime/metrics")).json())

    def delivered_rate(self, figures: dict[str, Any], started: float) -> float:
        return float(figures["delivered"]) / max(1e-6, figures["last_received"] - started)

    def print_sitcen(
        self,
        writes: dict[str, Any],
        changes: int,
        r: dict[str, Any],
        rss: tuple[float, float, float],
        cpu: tuple[float, Any, Any],
        hub: dict[str, Any],
    ) -> None:
        args = self.args
        rate = r["rate"]
        self.say(
            f"writes: {writes['count'] - writes['errors']}/{writes['count']} ok at "
            f"{writes['count'] / writes['elapsed']:.1f}/s; HTTP write "
            f"{percentiles(writes['durations'])}"
        )
        self.say(
            f"sitcen: delivered {rate['delivered']:,} of {changes * args.clients:,} "
            f"({changes} changes x {args.clients} clients); lost {rate['lost']}, "
            f"duplicated {rate['duplicated']}, out of order {rate['disordered']}; "
            f"clients closed: {summary(r['closed'])}"
        )
        self.say(
            f"sitcen commit-to-receive latency: {percentiles(rate['latencies'])}; server CPU "
            f"{cpu_per_thousand(rate):.1f} ms per 1,000 messages (HTTP writes included)"
        )
        idle, connected, end = rss
        self.say(
            f"server RSS: {idle:.0f} MiB idle, {connected:.0f} MiB with {args.clients} "
            f"clients ({(connected - idle) * 1024 / args.clients:.0f} KiB per client), "
            f"{end:.0f} MiB after the writes"
        )
        server_cpu, busy0, busy1 = cpu
        machine = (busy1[0] - busy0[0]) / max(1e-6, busy1[1] - busy0[1])
        self.say(
            f"CPU during the writes: server {server_cpu / writes['elapsed'] * 100:.0f}% of "
            f"one core, client processes {self.clients_cpu / writes['elapsed'] * 100:.0f}% of "
            f"one core in all; whole machine {machine * 100:.0f}% busy of {os.cpu_count()} "
            f"cores (server, clients, writer, database, and anything else running here)"
        )
        self.say(
            "hub after the writes: "
            + ", ".join(f"{k} {v:.0f}" for k, v in hub.items() if k != "listener")
        )

    async def run_relay(self) -> dict[str, Any]:
        """The relay floor: the same writer, at the same rate, through sitcen's API and
        PostgreSQL, each commit's change relayed from its NOTIFY to the same lean clients by a
        bare LISTEN + broadcast() process; sitcen keeps running, without WebSocket clients."""
        connection = await asyncpg.connect(self.database_url)
        await connection.execute(RELAY_TRIGGER)
        port = free_port()
        relay = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--role",
            "relay",
            "--port",
            str(port),
            "--url",
            self.database_url,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            await relay.stdout.readline()  # type: ignore[union-attr]
            procs = await self.spawn_clients(f"ws://127.0.0.1:{port}/", bare=True)
            first = await self.head() + 1
            cpu0 = cpu_seconds(relay.pid)
            async with httpx.AsyncClient(
                base_url=self.http_url,
                headers=self.auth,
                timeout=60,
                limits=httpx.Limits(max_connections=WRITERS),
            ) as http:
                writes = await self.write_at_rate(http, self.args.relay_seconds)
            cpu = cpu_seconds(relay.pid) - cpu0
            last = await self.head()
            result = await self.collect(procs, [("rate", first, last)])
            result["rate"]["cpu"] = cpu
        finally:
            relay.terminate()
            await relay.wait()
            await connection.execute(RELAY_DROP)
            await connection.close()
        figures = result["rate"]
        self.say(
            f"relay floor (asyncpg LISTEN + websockets broadcast of the NOTIFY payload), the "
            f"same writer at {self.args.rate}/s x {self.args.relay_seconds} s "
            f"({writes['count'] - writes['errors']}/{writes['count']} writes ok): delivered "
            f"{figures['delivered']:,} of {(last - first + 1) * self.args.clients:,}; lost "
            f"{figures['lost']}, duplicated {figures['duplicated']}, out of order "
            f"{figures['disordered']}; commit-to-receive latency "
            f"{percentiles(figures['latencies'])}; relay CPU {cpu_per_thousand(figures):.1f} ms "
            f"per 1,000 messages; clients closed: {summary(result['closed'])}"
        )
        return dict(figures)

    def relay_verdict(self, sitcen: dict[str, Any], relay: dict[str, Any]) -> None:
        ours, floor = p99(sitcen["latencies"]), p99(relay["latencies"])
        ratio_ = ours / floor if floor > 0 else float("inf")
        clean = sitcen["lost"] == 0 and sitcen["duplicated"] == 0
        passed = ratio_ <= 1.5 and clean
        self.say(
            f"TARGET commit-to-receive p99: floor (relay) {floor * 1000:.1f} ms, sitcen "
            f"{ours * 1000:.1f} ms, ratio {ratio_:.2f} (target <= 1.5), sitcen lost "
            f"{sitcen['lost']}, duplicated {sitcen['duplicated']} (target 0, 0): "
            f"{'PASS' if passed else 'MISS'}"
        )

    async def run_bare(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        from websockets.asyncio.client import connect

        port = free_port()
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--role",
            "bare",
            "--port",
            str(port),
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            await server.stdout.readline()  # type: ignore[union-attr]
            procs = await self.spawn_clients(f"ws://127.0.0.1:{port}/", bare=True)
            count, burst = len(messages), self.args.burst
            async with connect(
                f"ws://127.0.0.1:{port}/publish",
                compression=None,
                proxy=None,
                max_size=2**22,
                ping_interval=None,
            ) as publisher:
                start, rate_cpu = time.monotonic(), cpu_seconds(server.pid)
                for i, message in enumerate(messages):
                    delay = start + i / self.args.rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    await publisher.send(stamped(message, i + 1))
                rate_cpu = cpu_seconds(server.pid) - rate_cpu
                await self.drained(procs, count)
                burst_start, burst_cpu = time.time(), cpu_seconds(server.pid)
                for i in range(burst):
                    await publisher.send(stamped(messages[i % count], count + i + 1))
            result = await self.collect(
                procs, [("rate", 1, count), ("burst", count + 1, count + burst)]
            )
            result["rate"]["cpu"] = rate_cpu
            result["burst"]["cpu"] = cpu_seconds(server.pid) - burst_cpu
        finally:
            server.terminate()
            await server.wait()
        bare = result["rate"]
        self.say(
            f"bare websockets broadcast, the first {count} of the same messages at "
            f"{self.args.rate}/s: delivered {bare['delivered']:,} of "
            f"{count * self.args.clients:,}; lost {bare['lost']}, duplicated "
            f"{bare['duplicated']}; send-to-receive latency {percentiles(bare['latencies'])}; "
            f"server CPU {cpu_per_thousand(bare):.1f} ms per 1,000 messages; clients closed: "
            f"{summary(result['closed'])}"
        )
        result["burst_start"] = burst_start
        return result


def p99(values: list[float]) -> float:
    if len(values) < 2:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if a > 0 and b > 0 else "n/a (one side delivered nothing in time)"


def cpu_per_thousand(figures: dict[str, Any]) -> float:
    """Server CPU milliseconds per 1,000 messages delivered."""
    return float(figures["cpu"]) * 1e6 / max(1, figures["delivered"])


def summary(codes: list[int]) -> str:
    if not codes:
        return "none"
    counts: dict[int, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    return ", ".join(f"{n} with {code}" for code, n in sorted(counts.items()))


def delivered_share(figures: dict[str, Any]) -> float:
    unique = figures["delivered"] - figures["duplicated"]
    return float(unique) / max(1, unique + figures["lost"])


def stamped(message: dict[str, Any], seq: int) -> str:
    """A recorded change renumbered, its `at` the time it is handed to the bare server."""
    return orjson.dumps({**message, "seq": seq, "at": datetime.now(UTC).isoformat()}).decode()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--rate", type=int, default=50, help="changes per second through the API")
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--procs", type=int, default=4, help="client processes")
    p.add_argument(
        "--burst",
        type=int,
        default=800,
        help="changes in the saturation burst (below the default queue of 1000)",
    )
    p.add_argument(
        "--bare-seconds", type=int, default=20, help="length of the bare server's run at --rate"
    )
    p.add_argument(
        "--relay-seconds",
        type=int,
        default=None,
        help="length of the relay floor's run at --rate (default: --seconds)",
    )
    p.add_argument("--keep-db", action="store_true")
    p.add_argument(
        "--durable",
        action="store_true",
        help="keep synchronous_commit on in the bench database (commits wait for the disk)",
    )
    p.add_argument("--profile", help="write a cProfile of the sitcen server to this file")
    p.add_argument(
        "--role",
        choices=["main", "clients", "bare", "relay"],
        default="main",
        help=argparse.SUPPRESS,
    )
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--token", help=argparse.SUPPRESS)
    p.add_argument("--count", type=int, help=argparse.SUPPRESS)
    p.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    args.relay_seconds = args.relay_seconds or args.seconds
    if args.role == "clients":
        # uvloop as under `sitcen serve`: the clients and the bare server run on the same kind
        # of event loop as the server they are compared with.
        uvloop.run(client_process(args.url, args.token, args.count, args.bare))
    elif args.role == "bare":
        uvloop.run(bare_server(args.port))
    elif args.role == "relay":
        uvloop.run(relay_server(args.port, args.url))
    else:
        bench = Bench(args)
        try:
            bench.prepare_database()  # migrations run their own event loop: before ours
            asyncio.run(bench.run())
        finally:
            bench.cleanup()


if __name__ == "__main__":
    main()
