"""Replay in the dashboard: an operator drags the time control back to the papal visit's second
day and sees its perimeters, plays forwards, and returns to live without missing or doubling a
change written meanwhile.

The papal visit must lie in the feed's past for that: a database of its own holds the demo with
its records dated as they were lived (tests.redate), served by a server of its own."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.auth.roles import Role
from app.auth.service import create_user
from app.db import transaction
from app.demo import load_scenario
from app.settings import Settings
from tests.browser.conftest import Agent, api, incident_body
from tests.conftest import PASSWORD, Server, start_server, stop_server
from tests.redate import date_as_lived
from tests.reports.fresh import fresh_database

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]
BRUSSELS = ZoneInfo("Europe/Brussels")

PERIMETERS = """() => [...window.sitcen.store.all('zone')]
    .filter(z => z.properties.kind === 'security_perimeter').map(z => z.properties.title).sort()"""
RENDERED = "(layers) => window.sitcen.mapView.map.queryRenderedFeatures({layers}).length"


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.fixture(scope="module")
async def lived() -> AsyncIterator[Server]:
    async with fresh_database("replay") as fresh:
        async with transaction(fresh.sessions) as session:
            await create_user(session, "op", PASSWORD, Role.operator, actor="tests")
        await load_scenario(fresh.sessions)
        await date_as_lived(fresh.url, datetime(2024, 1, 2, 9, tzinfo=BRUSSELS))
        settings = Settings(database_url=fresh.url, secret_key=secrets.token_urlsafe(48))
        server = start_server(settings, name="replay")
        try:
            yield server
        finally:
            stop_server(server)


async def set_input(agent: Agent, selector: str, value: str) -> None:
    await agent.page.fill(selector, value)
    await agent.page.dispatch_event(selector, "change")


async def drag_slider_to(agent: Agent, fraction: float) -> None:
    """A drag of the slider's thumb from where it is to `fraction` of the track."""
    slider = agent.page.locator("#replay-slider")
    box = await slider.bounding_box()
    assert box is not None
    now = await agent.js(
        "() => { const s = document.querySelector('#replay-slider');"
        " return (s.value - s.min) / (s.max - s.min); }"
    )
    y = box["y"] + box["height"] / 2
    thumb = 8  # half the thumb's width: its centre never reaches the track's ends
    span = box["width"] - 2 * thumb
    await agent.page.mouse.move(box["x"] + thumb + span * now, y)
    await agent.page.mouse.down()
    await agent.page.mouse.move(box["x"] + thumb + span * fraction, y, steps=12)
    await agent.page.mouse.up()


async def test_an_operator_replays_the_papal_visits_second_day_plays_on_and_returns_to_live(
    agents: OpenAgent, lived: Server
) -> None:
    op = await agents("op", srv=lived)
    live_perimeters = await op.js(PERIMETERS)
    assert len(live_perimeters) == 3

    await op.page.click("#replay-open")
    await op.page.wait_for_selector("#replay-slider")
    assert await op.js("() => document.body.classList.contains('replaying')")
    # The window: the visit's days (Brussels time), then the thumb dragged to its middle,
    # Friday 27 September 2024 about noon.
    await set_input(op, "#replay-from", "2024-09-25T00:00")
    await set_input(op, "#replay-to", "2024-09-30T00:00")
    await op.wait_for(f"() => window.sitcen.replay.end === {ms('2024-09-30T00:00:00+02:00')}")
    await drag_slider_to(op, 0.5)
    second_day = (ms("2024-09-27T09:00:00+02:00"), ms("2024-09-27T15:00:00+02:00"))
    await op.wait_for(
        "([a, b]) => window.sitcen.replay.time > a && window.sitcen.replay.time < b", second_day
    )
    await op.settled()

    # The picture then: the Royal Palace perimeter (27/09 06:00–14:00), not yet Koekelberg's.
    perimeters = await op.js(PERIMETERS)
    assert len(perimeters) == 1 and "Palais royal" in perimeters[0]
    assert await op.js(RENDERED, ["zone-security_perimeter-line"]) > 0
    banner = await op.page.locator("#replay-banner").inner_text()
    assert "2024" in banner and "27" in banner and "septembre" in banner
    # Read-only: nothing offers to write, and a write would be refused.
    assert not await op.page.locator("#create-menu").is_visible()
    refused = await op.js(
        "() => window.sitcen.api.request('POST', '/api/incidents', {body: {}})"
        ".then(() => 'sent', (e) => e.status)"
    )
    assert refused == 409

    # Play forwards at ×3600 until Saturday 28/09 06:00: Koekelberg's perimeter is drawn.
    await op.page.select_option("#replay-speed", "3600")
    await op.page.click("#replay-play")
    saturday = ms("2024-09-28T06:00:00+02:00")
    await op.wait_for(f"() => window.sitcen.replay.time > {saturday}", within_ms=60_000)
    await op.page.click("#replay-play")
    assert not await op.js("() => window.sitcen.replay.playing")
    assert any("Koekelberg" in t for t in await op.js(PERIMETERS))
    assert await op.js("() => window.sitcen.replay.applied") > 0

    # Written while the past shows: on the way back to live, it appears once.
    async with api(lived) as client:
        r = await client.post(
            "/api/incidents", json=incident_body("Pendant le rejeu", [4.36, 50.85])
        )
        assert r.status_code == 201, r.text
        written = r.json()["id"]
    await op.page.click("#replay-live")
    await op.wait_for(
        "() => !window.sitcen.replaying && window.sitcen.connection?.status === 'live'"
    )
    await op.wait_for("(id) => Boolean(window.sitcen.store.get('incident', id))", written)
    assert await op.js(PERIMETERS) == live_perimeters
    assert await op.page.locator("#replay-banner").is_hidden()
    assert await op.page.locator("#create-menu").is_visible()
    await op.wait_for(
        '(id) => document.querySelectorAll(`.feed-item[data-id="${id}"]`).length === 1', written
    )
    seqs = await op.js("() => window.sitcen.store.feed.map((e) => e.seq)")
    assert len(seqs) == len(set(seqs))
    # And after: a change made now arrives live, once.
    async with api(lived) as client:
        r = await client.post("/api/incidents", json=incident_body("Après le rejeu", [4.37, 50.85]))
        after = r.json()["id"]
    await op.wait_for(
        '(id) => document.querySelectorAll(`.feed-item[data-id="${id}"]`).length === 1', after
    )
