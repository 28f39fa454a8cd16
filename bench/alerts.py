"""Alert delivery benchmark: 100 partners with 3 SPOCs each, a webhook per partner to a local
receiver, every SPOC connected to /ws.

    .venv/bin/python bench/alerts.py --partners 100 --rounds 30

Starts its own database (project-local PostGIS cluster) and one uvicorn worker, a webhook
receiver process (checks each HMAC signature) and a WebSocket client process (one connection
per SPOC). Each round the operator creates one matching incident through the API; the bench
waits until every partner's webhook and every SPOC's socket has the alert. It prints, per round
and as percentiles over rounds, the time from the incident's commit (the change's `at`, same
machine clock) to all webhooks received and to all WebSocket alert messages received.
Targets (issue 7): webhooks p95 <= 1 s, WebSocket p95 <= 200 ms. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import secrets
import signal
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from procstat import machine_speed  # noqa: E402

from app import devserver  # noqa: E402
from app.devserver import free_port  # noqa: E402

REFERENCE_DIR = PROJECT_ROOT.parent / "shared" / "data" / "brussels"
DATABASE = "sitcen_bench_alerts"
CENTRE = (4.3525, 50.8467)
ROUND_TIMEOUT = 30.0
PASSWORD = "bench password, not a secret"


# ---------------------------------------------------------------- receiver process


def receiver_process(port: int, secrets_by_org: dict[str, str], out: Any) -> None:
    """Answers webhooks, checks signatures, reports (incident id, org, arrival time, valid)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from app.alerts.channels.webhook import SIGNATURE_HEADER, verify

    async def receive(request: Request) -> Response:
        arrived = time.time()
        org = request.path_params["org"]
        body = await request.body()
        valid = verify(
            secrets_by_org[org], request.headers.get(SIGNATURE_HEADER, ""), body, arrived
        )
        incident = orjson.loads(body)["alert"]["entity_id"]
        out.put(("webhook", incident, org, arrived, valid))
        return Response(status_code=204)

    app = Starlette(routes=[Route("/hooks/{org}", receive, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ---------------------------------------------------------------- WebSocket client process


def ws_process(url: str, tokens: list[str], out: Any) -> None:
    import uvloop

    uvloop.run(_ws_clients(url, tokens, out))


class _Spoc:
    """One SPOC's socket (a leanws.Handler): notes when each alert arrived."""

    def __init__(self, arrivals: dict[str, list[float]], ready: asyncio.Event) -> None:
        self.arrivals, self.ready = arrivals, ready

    def opened(self, client: Any) -> None:
        pass

    def line(self, client: Any, raw: bytes, now: float) -> None:
        if raw.startswith(b'{"type":"alert",'):
            # The object's id from the text: parsing the whole alert would delay the sockets
            # read after this one, and their arrival times with them.
            at = raw.index(b'"entity_id":"') + 13
            self.arrivals.setdefault(raw[at : at + 36].decode(), []).append(now)
        elif raw.startswith(b'{"type":"live"'):
            self.ready.set()

    def ended(self, code: int) -> None:
        self.ready.set()


async def _ws_clients(url: str, tokens: list[str], out: Any) -> None:
    import leanws

    arrivals: dict[str, list[float]] = {}
    gate = asyncio.Semaphore(25)

    async def connect_one(token: str) -> None:
        ready = asyncio.Event()
        hello = orjson.dumps(
            {
                "type": "hello",
                "token": token,
                "since": None,
                "filter": {"entities": ["logbook_entry"]},
            }
        )
        async with gate:
            await leanws.connect(url, hello, _Spoc(arrivals, ready))
            await ready.wait()

    await asyncio.gather(*(connect_one(t) for t in tokens))
    out.put(("ready",))
    while True:  # hand over what arrived, in batches: the times were taken on arrival
        await asyncio.sleep(0.05)
        for entity_id in list(arrivals):
            out.put(("ws", entity_id, arrivals.pop(entity_id)))


# ---------------------------------------------------------------- set-up


async def setup(
    url: str, secret: str, partners: int, spocs: int, hook_port: int
) -> tuple[list[str], dict[str, str], str]:
    """Partners, SPOCs (users and contacts), webhook channels and subscriptions; the SPOCs'
    access tokens, the webhook secrets and an operator token."""
    from sqlalchemy import insert

    from app.auth.models import User
    from app.auth.passwords import hash_password
    from app.auth.tokens import issue_access_token
    from app.cli import load_reference
    from app.db import make_engine, make_sessionmaker
    from app.partners.models import Channel, Contact, Organisation, Subscription
    from app.partners.service import new_secret
    from app.settings import Settings

    settings = Settings(database_url=url, secret_key=secret)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    await load_reference(sessions, [str(REFERENCE_DIR)])
    now = datetime.now(UTC)
    stamp = {"created_at": now, "created_by": "bench", "updated_at": now, "updated_by": "bench"}
    password = hash_password(PASSWORD)  # one hash: logging in is not what is measured
    d = 0.05
    area = {
        "type": "Polygon",
        "coordinates": [
            [
                [CENTRE[0] - d, CENTRE[1] - d],
                [CENTRE[0] + d, CENTRE[1] - d],
                [CENTRE[0] + d, CENTRE[1] + d],
                [CENTRE[0] - d, CENTRE[1] + d],
                [CENTRE[0] - d, CENTRE[1] - d],
            ]
        ],
    }
    hook_secrets: dict[str, str] = {}
    users: list[User] = []
    async with sessions() as session, session.begin():
        for p in range(partners):
            code = f"bench-{p:03d}"
            hook_secrets[code] = new_secret()
            session.add(
                Organisation(
                    code=code,
                    name_fr=code,
                    name_nl=code,
                    kind="other",
                    created_at=now,
                    created_by="bench",
                )
            )
        await session.flush()
        for code, hook_secret in hook_secrets.items():
            await session.execute(
                insert(Channel).values(
                    id=uuid.uuid4(),
                    organisation=code,
                    kind="webhook",
                    enabled=True,
                    url=f"http://127.0.0.1:{hook_port}/hooks/{code}",
                    secret=hook_secret,
                    **stamp,
                )
            )
            await session.execute(
                insert(Subscription).values(
                    id=uuid.uuid4(),
                    organisation=code,
                    name="centre",
                    entities=["incident"],
                    min_severity="severe",
                    area_kind="polygon",
                    polygon=area,
                    active=True,
                    **stamp,
                )
            )
            for s in range(spocs):
                language = ("fr", "nl", "en")[s % 3]
                await session.execute(
                    insert(Contact).values(
                        id=uuid.uuid4(),
                        organisation=code,
                        name=f"SPOC {s}",
                        language=language,
                        rank=s,
                        active=True,
                        **stamp,
                    )
                )
                user = User(
                    username=f"{code}-spoc{s}",
                    role="partner",
                    organisation=code,
                    language=language,
                    password_hash=password,
                    created_at=now,
                    created_by="bench",
                )
                session.add(user)
                users.append(user)
        operator = User(
            username="bench-op",
            role="operator",
            language="fr",
            password_hash=password,
            created_at=now,
            created_by="bench",
        )
        session.add(operator)
    tokens = [issue_access_token(u, settings)[0] for u in users]
    op_token = issue_access_token(operator, settings)[0]
    await engine.dispose()
    return tokens, hook_secrets, op_token


# ---------------------------------------------------------------- rounds


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run_rounds(
    api: str, op_token: str, rounds: int, partners: int, sockets: int, out: Any
) -> tuple[list[float], list[float], list[float], list[float], int]:
    headers = {"Authorization": f"Bearer {op_token}"}
    to_all_hooks, to_all_ws, each_hook, each_ws = [], [], [], []
    invalid = 0
    with httpx.Client(base_url=api, headers=headers, timeout=30) as client:
        for i in range(rounds):
            feature = {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [CENTRE[0] + i * 1e-4, CENTRE[1]]},
                "properties": {
                    "title": f"Bench {i}",
                    "category": "fire",
                    "severity": "severe",
                    "visibility": "shared",
                },
            }
            r = client.post("/api/incidents", json=feature)
            r.raise_for_status()
            incident = r.json()["id"]
            history = client.get(f"/api/incidents/{incident}/history").json()["changes"]
            committed = datetime.fromisoformat(history[0]["at"]).timestamp()
            hooks: list[float] = []
            ws: list[float] = []
            deadline = time.monotonic() + ROUND_TIMEOUT
            while (len(hooks) < partners or len(ws) < sockets) and time.monotonic() < deadline:
                try:
                    item = out.get(timeout=max(0.01, deadline - time.monotonic()))
                except Exception:
                    break
                if item[1] != incident:
                    continue
                if item[0] == "webhook":
                    hooks.append(item[3] - committed)
                    invalid += 0 if item[4] else 1
                elif item[0] == "ws":
                    ws += [arrived - committed for arrived in item[2]]
            if len(hooks) < partners or len(ws) < sockets:
                print(
                    f"round {i}: only {len(hooks)}/{partners} webhooks, {len(ws)}/{sockets} sockets"
                )
                continue
            to_all_hooks.append(max(hooks))
            to_all_ws.append(max(ws))
            each_hook += hooks
            each_ws += ws
            print(
                f"round {i:3d}: all {partners} webhooks {max(hooks) * 1000:7.1f} ms, "
                f"all {sockets} sockets {max(ws) * 1000:7.1f} ms"
            )
    return to_all_hooks, to_all_ws, each_hook, each_ws, invalid


def report(name: str, values: list[float]) -> None:
    if not values:
        print(f"{name}: no data")
        return
    ms = [v * 1000 for v in values]
    print(
        f"{name:<38} p50 {pct(ms, 50):7.1f}  p95 {pct(ms, 95):7.1f}  p99 {pct(ms, 99):7.1f}  "
        f"max {max(ms):7.1f}  mean {statistics.fmean(ms):7.1f} ms  (n={len(ms)})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--partners", type=int, default=100)
    ap.add_argument("--spocs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    # A terminated bench still stops its server and client processes and drops its database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    from app import localdb
    from app.db import upgrade_database

    base = localdb.ensure_cluster(
        PROJECT_ROOT / ".local", int(os.environ.get("SITCEN_LOCAL_PG_PORT", "54329"))
    )
    localdb.drop_database(base, DATABASE)
    url = localdb.ensure_database(base, DATABASE)
    upgrade_database(url)
    secret = secrets.token_urlsafe(48)
    hook_port, api_port = free_port(), free_port()
    tokens, hook_secrets, op_token = asyncio.run(
        setup(url, secret, args.partners, args.spocs, hook_port)
    )

    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    env = {**os.environ, "SITCEN_DATABASE_URL": url, "SITCEN_SECRET_KEY": secret}
    env.pop("SITCEN_LOCAL_MODE", None)
    server = devserver.start(api_port, env)
    receiver = ctx.Process(
        target=receiver_process, args=(hook_port, hook_secrets, out), daemon=True
    )
    receiver.start()
    api = f"http://127.0.0.1:{api_port}"
    clients = None
    try:
        clients = ctx.Process(
            target=ws_process, args=(api.replace("http", "ws") + "/ws", tokens, out), daemon=True
        )
        clients.start()
        item = out.get(timeout=120)
        assert item == ("ready",), item
        time.sleep(1.0)  # let the last hellos be accepted before the first round
        speed = machine_speed()
        print(
            f"== {args.partners} partners x {args.spocs} SPOCs: {args.partners} webhooks and "
            f"{len(tokens)} sockets per alert, {args.rounds} rounds, one uvicorn worker, "
            f"{os.cpu_count()}-core machine; machine speed {speed:.0f} ms (a fixed loop: lower is "
            "faster)"
        )
        hooks, ws, each_hook, each_ws, invalid = run_rounds(
            api, op_token, args.rounds, args.partners, len(tokens), out
        )
        print()
        report("commit -> all webhooks received", hooks)
        report("commit -> all WebSocket alerts received", ws)
        report("commit -> each webhook", each_hook)
        report("commit -> each WebSocket alert", each_ws)
        print(f"invalid signatures: {invalid}")
        hooks_met = bool(hooks) and pct(hooks, 95) <= 1.0
        ws_met = bool(ws) and pct(ws, 95) <= 0.2
        print(
            f"targets: webhooks p95 <= 1000 ms {'met' if hooks_met else 'NOT met'}; "
            f"WebSocket p95 <= 200 ms {'met' if ws_met else 'NOT met'}"
        )
    finally:
        for process in (clients, receiver):
            if process is not None:
                process.terminate()
        server.terminate()
        server.wait(10)
        localdb.drop_database(base, DATABASE)


if __name__ == "__main__":
    main()
