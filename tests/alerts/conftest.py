"""Alerting test harness: a real webhook receiver and a real SMTP server on 127.0.0.1, partner
organisations made through the API, and waiting with a deadline instead of sleeping.

The settings below are read by every server this test session starts (the session's shared
server too): quick retries and short leases so that failure paths run in seconds, and
acknowledgement deadlines far away so that no server escalates on its own — the escalation
tests move an injected clock instead.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as email_policy
from typing import Any

import httpx
import orjson
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.alerts.channels.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify
from app.localdb import new_vapid_key
from tests.conftest import PASSWORD, Server, eventually, free_port
from tests.threaded import ThreadedServer

SMTP_PORT = free_port()
DAY = 86_400
for name, value in {
    "SITCEN_ALERTS_SMTP_HOST": "127.0.0.1",
    "SITCEN_ALERTS_SMTP_PORT": str(SMTP_PORT),
    "SITCEN_ALERTS_RETRY_BASE_SECONDS": "0.05",
    "SITCEN_ALERTS_RETRY_MAX_SECONDS": "0.4",
    "SITCEN_ALERTS_MAX_ATTEMPTS": "5",
    "SITCEN_ALERTS_CLAIM_SECONDS": "3",
    "SITCEN_ALERTS_WEBHOOK_TIMEOUT_SECONDS": "2",
    # Web Push to the local push service of tests/alerts/push_service.py (plain HTTP, loopback).
    "SITCEN_ALERTS_PUSH_TIMEOUT_SECONDS": "2",
    "SITCEN_ALERTS_PUSH_ALLOW_HTTP_LOOPBACK": "true",
    "SITCEN_VAPID_PRIVATE_KEY": new_vapid_key(),
    "SITCEN_VAPID_SUBJECT": "mailto:watch@sitcen.test",
    "SITCEN_ALERTS_POLL_SECONDS": "0.5",
    "SITCEN_ALERTS_ACK_DEADLINE_SECONDS": (
        f'{{"extreme": {DAY}, "severe": {2 * DAY}, "moderate": {3 * DAY}, "minor": {4 * DAY}}}'
    ),
}.items():
    os.environ.setdefault(name, value)


# ---- webhook receiver --------------------------------------------------------------------------


@dataclass
class Hook:
    """What one webhook path received, and how it answers."""

    secret: str = ""
    fail_first: int = 0  # answer 500 to this many requests first
    always_fail: bool = False
    hold: threading.Event | None = None  # answer only once this is set
    requests: list[dict[str, Any]] = field(default_factory=list)
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> body

    @property
    def keys(self) -> list[str]:
        return [r["key"] for r in self.requests]


class Receiver(ThreadedServer):
    """A webhook receiver in its own thread, as a partner would run one: it checks the HMAC
    signature and processes each Idempotency-Key once."""

    def __init__(self) -> None:
        super().__init__(
            Starlette(routes=[Route("/hooks/{name}", self._receive, methods=["POST"])]),
            "webhook receiver",
        )
        self.hooks: dict[str, Hook] = {}
        self._lock = threading.Lock()

    def hook(self, **behaviour: Any) -> tuple[str, Hook]:
        name = uuid.uuid4().hex[:12]
        self.hooks[name] = Hook(**behaviour)
        return f"http://127.0.0.1:{self.port}/hooks/{name}", self.hooks[name]

    async def _receive(self, request: Request) -> Response:
        hook = self.hooks.get(request.path_params["name"])
        if hook is None:
            return Response(status_code=404)
        body = await request.body()
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        signed = verify(hook.secret, request.headers.get(SIGNATURE_HEADER, ""), body, time.time())
        with self._lock:
            hook.requests.append({"key": key, "signed": signed, "body": body})
            failing = hook.always_fail or len(hook.requests) <= hook.fail_first
        if hook.hold is not None:
            await asyncio.to_thread(hook.hold.wait, 60)
        if not signed:
            return Response("bad signature", status_code=401)
        if failing:
            return Response("receiver down", status_code=500)
        with self._lock:
            hook.processed.setdefault(key, orjson.loads(body))
        return Response(status_code=204)


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()


# ---- SMTP --------------------------------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=email_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


# The one SMTP server of the test process, on the port every server was told: the crisis cell's
# tests (tests/cell) use this fixture too, and a second server could not bind the port.
_smtp: list[Inbox] = []


@pytest.fixture(scope="session")
def inbox() -> Iterator[Inbox]:
    if _smtp:
        yield _smtp[0]
        return
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    _smtp.append(box)
    yield box
    controller.stop()
    _smtp.clear()


# ---- partners through the API ------------------------------------------------------------------

_places = itertools.count()


def place() -> tuple[float, float]:
    """A point of its own for each test, in Uccle and Forest, away from other tests' objects."""
    i = next(_places)
    return 4.330 + (i % 20) * 0.003, 50.800 + (i // 20) * 0.003


def square(lon: float, lat: float, d: float = 0.001) -> dict[str, Any]:
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def incident(lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "title": "Incendie test",
            "category": "fire",
            "severity": "severe",
            "visibility": "shared",
            **props,
        },
    }


@dataclass
class Partner:
    """A partner organisation made for one test, managed by a SITCEN coordinator."""

    code: str
    coord: httpx.AsyncClient
    server: Server

    async def contact(self, name: str, language: str, rank: int, **extra: Any) -> dict[str, Any]:
        body = {"name": name, "language": language, "rank": rank, **extra}
        r = await self.coord.post(f"/api/partners/{self.code}/contacts", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def channel(self, kind: str, url: str | None = None) -> dict[str, Any]:
        body = {"kind": kind, **({"url": url} if url else {})}
        r = await self.coord.post(f"/api/partners/{self.code}/channels", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def webhook(self, receiver: Receiver, **behaviour: Any) -> Hook:
        url, hook = receiver.hook(**behaviour)
        hook.secret = (await self.channel("webhook", url))["secret"]
        return hook

    async def subscribe(self, **body: Any) -> dict[str, Any]:
        r = await self.coord.post(
            "/api/subscriptions", json={"organisation": self.code, "name": "test", **body}
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def user(self, language: str = "nl") -> httpx.AsyncClient:
        """A partner SPOC user of this organisation, logged in."""
        name = f"spoc-{uuid.uuid4().hex[:8]}"
        async with httpx.AsyncClient(base_url=self.server.url, timeout=30) as anon:
            admin = {"Authorization": f"Bearer {self.server.tokens['adm']}"}
            r = await anon.post(
                "/api/users",
                headers=admin,
                json={
                    "username": name,
                    "password": PASSWORD,
                    "role": "partner",
                    "organisation": self.code,
                    "language": language,
                },
            )
            assert r.status_code == 201, r.text
            r = await anon.post("/api/auth/token", data={"username": name, "password": PASSWORD})
            token = r.json()["access_token"]
        return httpx.AsyncClient(
            base_url=self.server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )


@pytest.fixture
async def make_partner(server: Server) -> AsyncIterator[Callable[[], Awaitable[Partner]]]:
    """Creates partner organisations; their subscriptions are removed afterwards so that later
    tests' objects raise no alerts for them."""
    coord = httpx.AsyncClient(
        base_url=server.url,
        headers={"Authorization": f"Bearer {server.tokens['coord']}"},
        timeout=30,
    )
    admin = {"Authorization": f"Bearer {server.tokens['adm']}"}
    made: list[Partner] = []

    async def make() -> Partner:
        code = f"t-{uuid.uuid4().hex[:10]}"
        r = await coord.post(
            "/api/organisations",
            headers=admin,
            json={"code": code, "name_fr": code, "name_nl": code, "kind": "other"},
        )
        assert r.status_code == 201, r.text
        made.append(Partner(code, coord, server))
        return made[-1]

    yield make
    for partner in made:
        subs = (await coord.get("/api/subscriptions", params={"organisation": partner.code})).json()
        for sub in subs["subscriptions"]:
            await coord.delete(f"/api/subscriptions/{sub['id']}")
    await coord.aclose()


async def alerts_of(client: httpx.AsyncClient, organisation: str) -> list[dict[str, Any]]:
    r = await client.get("/api/alerts", params={"organisation": organisation})
    assert r.status_code == 200, r.text
    return list(r.json()["alerts"])


async def settled(client: httpx.AsyncClient, alert_id: str) -> dict[str, Any] | None:
    """The alert once none of its deliveries is pending or being sent."""
    body = (await client.get(f"/api/alerts/{alert_id}")).json()
    states = [d["status"] for r in body["recipients"] for d in r["deliveries"]]
    return None if any(s in ("pending", "sending") for s in states) else dict(body)


async def caught_up(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Wait until the evaluator has handled every change written so far."""

    async def check() -> bool:
        async with sessions() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT f.seq, c.seq FROM feed_counter f, feed_cursors c"
                        " WHERE f.id = 1 AND c.name = 'alerts'"
                    )
                )
            ).one()
        return bool(row[1] >= row[0])

    await eventually(check, "the evaluator to reach the feed head")
