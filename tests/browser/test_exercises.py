"""The exercise picture and the controller's panel at the dashboard: an exercise's objects are
not in the real picture; the toggle shows them on their own, under a banner; the coordinator
follows the run and pauses it; the watch is offered no panel."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import orjson
import pytest

from tests.browser.conftest import Agent, api
from tests.conftest import Server, eventually
from tests.exercises.helpers import incident_inject, scenario

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]


async def test_the_exercise_picture_is_apart_and_the_controller_pauses_the_run(
    agents: OpenAgent, server: Server
) -> None:
    marker = uuid.uuid4().hex[:8]
    data = scenario(
        incident_inject("0:00", "leak", title=f"Fuite {marker}"),
        incident_inject("2:00", "later", title=f"Plus tard {marker}"),
    )
    async with api(server, "coord") as coord:
        r = await coord.post(
            "/api/exercise-scenarios",
            content=orjson.dumps(data),
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 201, r.text
        run = (await coord.post(f"/api/exercise-scenarios/{r.json()['id']}/runs", json={})).json()

        async def leak_id() -> str | None:
            state = (await coord.get(f"/api/exercise-runs/{run['id']}")).json()
            return state["injects"][0]["entity_id"]

        leak = await eventually(leak_id, "the first inject played")

    controller = await agents("coord")
    page = controller.page
    held = "(id) => window.sitcen.store.get('incident', id) !== null"
    assert not await controller.js(held, leak)
    assert await page.locator("#exercise-banner").is_hidden()
    await page.check("#exercise-picture")
    await page.wait_for_selector("#exercise-banner:not([hidden])")
    await page.wait_for_function(held, arg=leak)
    assert "IMAGE D’EXERCICE" in (await page.text_content("#exercise-banner") or "")

    await page.click("#tab-exercises")
    panel = page.locator(f'.exercise-run[data-run="{run["id"]}"]')
    await panel.wait_for()
    assert await panel.get_attribute("data-status") == "running"
    await panel.get_by_role("button", name="Pause").click()
    await page.wait_for_selector(f'.exercise-run[data-run="{run["id"]}"][data-status="paused"]')
    await controller.shot("40-exercise-panel-paused")
    await page.get_by_role("button", name="Arrêter").click()
    await page.wait_for_selector(f'.exercise-run[data-run="{run["id"]}"][data-status="stopped"]')

    await page.uncheck("#exercise-picture")
    await page.wait_for_selector("#exercise-banner[hidden]", state="attached")
    await page.wait_for_function(f"(id) => !({held.split('=> ')[1]})", arg=leak)


async def test_the_watch_is_offered_no_exercise_panel(agents: OpenAgent) -> None:
    operator = await agents("op")
    assert await operator.page.locator("#tab-exercises").is_hidden()
    assert await operator.js("() => window.sitcen.panels.exercises === undefined")
