"""The planning desk at the dashboard: a march crossing a summit's perimeter is listed and drawn,
acknowledged with a note; a new conflict is flagged at once; the exercise calendar shows the
year's exercises beside the planned events."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.browser.conftest import Agent
from tests.browser.test_accessibility import assert_accessible
from tests.conftest import Server
from tests.samples import feature, square

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]
# Soon after the session's now, so that the list (from now on, by start) shows it first.
DAY = {"starts_at": "2027-01-04T10:00:00+01:00", "ends_at": "2027-01-04T16:00:00+01:00"}


def _create(server: Server, path: str, body: dict[str, object]) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {server.tokens['op']}"}
    r = httpx.post(f"{server.url}/api/{path}", json=body, headers=headers, timeout=30)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_the_planning_desk_sees_acknowledges_and_is_flagged_of_conflicts(
    agents: OpenAgent, server: Server
) -> None:
    marker = uuid.uuid4().hex[:6]
    lon, lat = 4.3890, 50.8380
    summit = _create(
        server,
        "events",
        feature(square(lon, lat, 0.002), title=f"Sommet {marker}", kind="summit", **DAY),
    )
    march = _create(
        server,
        "demonstrations",
        feature(
            {"type": "LineString", "coordinates": [[lon - 0.004, lat], [lon + 0.004, lat]]},
            title=f"Marche {marker}",
            **DAY,
        ),
    )
    operator = await agents("op")
    page = operator.page
    await page.click("#tab-planning")
    ids = sorted([str(summit["id"]), str(march["id"])])
    key = f'[data-conflict="{ids[0]}~{ids[1]}"]'
    item = page.locator(key)
    await item.wait_for()
    text = await item.text_content() or ""
    assert f"Sommet {marker}" in text and f"Marche {marker}" in text
    drawn = await operator.wait_for(
        "() => window.sitcen.mapView.map.getLayer('planning-conflicts-line')"
        " && window.sitcen.mapView.map.getSource('planning-conflicts')"
        " && window.sitcen.panels.planning.conflicts.features.length"
    )
    assert drawn >= 1
    await operator.shot("40-planning-conflicts-fr")
    await assert_accessible(operator)

    await item.locator("input").fill("Itinéraire concerté avec la zone de police")
    await item.locator("button[type=submit]").click()
    await page.wait_for_selector(f"{key}.acknowledged")
    assert "Itinéraire concerté" in (await item.text_content() or "")

    # A new one, made elsewhere while the desk looks at the calendar: flagged at once.
    await page.click(".planning-views button:nth-child(2)")
    _create(
        server,
        "zones",
        feature(
            square(lon, lat, 0.001),
            title=f"Chantier {marker}",
            kind="traffic_restriction",
            valid_from=DAY["starts_at"],
        ),
    )
    await page.wait_for_selector("#tab-planning.flagged")
    await page.wait_for_selector(".planning-calendar, .planning-year")


async def test_the_exercise_calendar_marks_clashes(agents: OpenAgent, server: Server) -> None:
    marker = uuid.uuid4().hex[:6]
    window = {"starts_at": "2027-02-10T09:00:00+01:00", "ends_at": "2027-02-10T17:00:00+01:00"}
    ftx = _create(
        server,
        "events",
        feature(
            square(4.35, 50.85),
            title=f"FTX {marker}",
            kind="exercise",
            objectives="Activation du GCC",
            participants=["pz-5339"],
            **window,
        ),
    )
    _create(
        server,
        "events",
        feature(square(4.40, 50.83), title=f"Match {marker}", kind="sports_match", **window),
    )
    coordinator = await agents("coord")
    page = coordinator.page
    await page.click("#tab-planning")
    await page.click(".planning-views button:nth-child(2)")
    await page.click('button[aria-label="Année suivante"]')
    exercise = page.locator(f'[data-exercise="{ftx["id"]}"]')
    await exercise.wait_for()
    assert await exercise.evaluate("e => e.classList.contains('clash')")
    assert f"Match {marker}" in (await exercise.text_content() or "")
    await coordinator.shot("41-exercise-calendar-fr")
    await assert_accessible(coordinator)
