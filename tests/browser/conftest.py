"""Browser tests: the built dashboard in Debian's headless Chromium against a real server.

No request may leave the machine: every context routes requests to any other host to an abort
and each agent's page asserts, when it closes, that none was attempted. Screenshots go to
test-artifacts/browser/ for a reader to look at.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import ARTIFACTS, PASSWORD, PROJECT_ROOT, Server

SHOTS = ARTIFACTS / "browser"
STATIC_INDEX = PROJECT_ROOT / "app" / "static" / "index.html"
CHROMIUM = "/usr/bin/chromium"
# Software WebGL (SwiftShader) lets MapLibre render headless; nothing phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
READY_TIMEOUT_MS = 30_000
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture(scope="session")
async def demo(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The demo scenario (papal visit, match, demonstrations, incidents, GCC) in the test DB."""
    from app.demo import load_scenario

    await load_scenario(sessions)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if not STATIC_INDEX.exists():
        pytest.fail("the dashboard is not built: run `bash scripts/setup.sh` (npm run build)")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname in LOCAL_HOSTS


# These read the demo's picture as the demo drew it (its feed's last changes, the running
# activation on the wall); the other browser tests add to the same database. They go first,
# whatever the files' names.
READ_THE_DEMO_AS_DRAWN = ("test_dashboard.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name not in READ_THE_DEMO_AS_DRAWN)


@dataclass
class Agent:
    """One person at the dashboard: a browser context of their own, signed in."""

    name: str
    context: Any
    page: Any
    server_url: str
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def js(self, expression: str, arg: Any = None) -> Any:
        return await self.page.evaluate(expression, arg)

    async def wait_for(self, expression: str, arg: Any = None, within_ms: float = 15_000) -> Any:
        """The first truthy value of a page expression (polled each frame)."""
        handle = await self.page.wait_for_function(expression, arg=arg, timeout=within_ms)
        return await handle.json_value()

    async def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SHOTS / f"{name}.png"))

    async def settled(self) -> None:
        """Wait until the map has drawn every pending update."""
        await self.js("() => window.sitcen.mapView.settled()")

    async def close(self) -> None:
        await self.context.close()
        assert not self.blocked, f"requests left the machine: {self.blocked}"
        assert not self.errors, f"errors in the page: {self.errors}"


async def open_agent(
    browser: Any,
    server: Server,
    user: str,
    *,
    path: str = "/",
    viewport: tuple[int, int] = (1440, 900),
    color_scheme: str = "light",
    sign_in: bool = True,
    device: dict[str, Any] | None = None,
) -> Agent:
    """`device`: a phone's or tablet's emulation (viewport, is_mobile, has_touch,
    device_scale_factor), which takes the place of `viewport`."""
    context = await browser.new_context(
        **({"viewport": {"width": viewport[0], "height": viewport[1]}} | (device or {})),
        locale="fr-BE",
        timezone_id="Europe/Brussels",
        color_scheme=color_scheme,
    )
    page = await context.new_page()
    agent = Agent(user, context, page, server.url)

    async def guard(route: Any) -> None:
        if is_local(route.request.url):
            await route.continue_()
        else:
            agent.blocked.append(route.request.url)
            await route.abort()

    await context.route("**/*", guard)
    page.on("pageerror", lambda error: agent.errors.append(str(error)))
    await page.goto(server.url + path)
    if sign_in:
        await page.fill("#login-username", user)
        await page.fill("#login-password", PASSWORD)
        await page.click("#login-form button[type=submit]")
        await page.wait_for_selector("body[data-ready=true]", timeout=READY_TIMEOUT_MS)
        await agent.settled()
    return agent


@pytest.fixture
async def agents(
    browser: Any, server: Server, demo: None
) -> AsyncIterator[Callable[..., Awaitable[Agent]]]:
    """Open signed-in agents on the session's server; each is closed and checked at the end."""
    opened: list[Agent] = []

    async def make(user: str, srv: Server | None = None, **kwargs: Any) -> Agent:
        agent = await open_agent(browser, srv or server, user, **kwargs)
        opened.append(agent)
        return agent

    yield make
    for agent in opened:
        await agent.close()


@asynccontextmanager
async def api(server: Server, who: str = "op") -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in afresh: the session's tokens may be older than the 15 minutes a
    token lives."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        r = await client.post("/api/auth/token", data={"username": who, "password": PASSWORD})
        r.raise_for_status()
        client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        yield client


def record(name: str, figures: dict[str, Any]) -> None:
    """Keep measured figures beside the screenshots (and print them for the test log)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / "figures.json"
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing[name] = {**figures, "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    path.write_text(json.dumps(existing, indent=2))
    print(f"\n{name}: {figures}")


def incident_body(title: str, point: list[float], **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": point},
        "properties": {"title": title, "category": "fire", "severity": "moderate", **props},
    }


async def cell_with_a_partner_seat(
    coord: httpx.AsyncClient, title: str, where: list[float]
) -> tuple[str, str]:
    """An incident at `where`, a GCC activation about it shared with partner pz-5340, and a D3
    seat held by that partner: (activation id, seat id), as a coordinator makes them."""
    r = await coord.post("/api/incidents", json=incident_body(title, where))
    assert r.status_code == 201, r.text
    r = await coord.post(
        "/api/activations/open",
        json={
            "title": f"GCC {title}",
            "level": "coordination",
            "subject_entity": "incident",
            "subject_id": r.json()["id"],
            "shared_with": ["pz-5340"],
        },
    )
    assert r.status_code == 201, r.text
    activation = r.json()["activation"]["id"]
    seat = {"title": "D3 — PZ Bruxelles-Ouest", "activation_id": activation, "role": "d3"}
    r = await coord.post(
        "/api/positions",
        json={
            "type": "Feature",
            "geometry": None,
            "properties": {**seat, "holder_organisation": "pz-5340"},
        },
    )
    assert r.status_code == 201, r.text
    return activation, r.json()["id"]
