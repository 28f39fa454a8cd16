"""The hotspots view in a real browser against a real server: the comparison lists the demo's
hotspots and a new one with its count and sparkline, its fiche shows the weekly chart, a measure
expiring soon marked as such, and an evaluation note added from the form."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import agents, api, browser, demo  # noqa: F401  (fixtures)
from tests.conftest import Server
from tests.reports.hotspot_helpers import hotspot, incident, measure

pytestmark = pytest.mark.browser

ROW = (
    "(id) => document.querySelector(`#hotspots tr[data-id='${id}'] [data-field=current]`)"
    "?.textContent ?? null"
)


async def test_the_comparison_and_a_fiche_in_the_dashboard(
    server: Server,
    agents: Any,  # noqa: F811  (the browser tests' fixture, imported above)
) -> None:
    title = f"Hotspot navigateur {uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    async with api(server, "op") as client:
        zone, where = await hotspot(client, title=title)
        await incident(client, where, (now - timedelta(hours=2)).isoformat())
        await measure(
            client,
            zone["id"],
            reference="AB-NAV-1",
            valid_from=(now - timedelta(days=170)).isoformat(),
            valid_to=(now + timedelta(days=10)).isoformat(),
        )
    agent = await agents("op", path="/#hotspots")
    assert await agent.wait_for(ROW, zone["id"]) == "1"
    rows = await agent.js("() => document.querySelectorAll('#hotspots tbody tr').length")
    assert rows >= 18  # the demo's 17 and this one
    assert await agent.js(
        "(id) => !!document.querySelector(`#hotspots tr[data-id='${id}'] canvas`)", zone["id"]
    )
    await agent.shot("hotspots-comparison")

    await agent.page.click(f"#hotspots tr[data-id='{zone['id']}'] a")
    await agent.wait_for("() => document.querySelector('#hotspots-title')?.textContent", None)
    assert (
        await agent.wait_for(
            "() => document.querySelector('#hotspots .hotspot-measure')?.dataset.validity"
        )
        == "expiring"
    )
    assert await agent.js("() => document.querySelector('#hotspots-title').textContent") == title
    assert await agent.js("() => !!document.querySelector('#hotspots .hotspots-chart canvas')")

    await agent.page.fill("#hotspots .hotspots-note-form input[name=title]", "Évaluation du jour")
    await agent.page.fill("#hotspots .hotspots-note-form textarea", "Moins de deal visible")
    await agent.page.click("#hotspots .hotspots-note-form button[type=submit]")
    text = await agent.wait_for(
        "() => document.querySelector('#hotspots .note-text')?.textContent ?? null"
    )
    assert text == "Moins de deal visible"
    await agent.shot("hotspots-fiche")

    partner = await agents("part", path="/#hotspots")
    await partner.wait_for("() => document.querySelector('#hotspots table') !== null")
    assert not await partner.js(
        "(id) => !!document.querySelector(`#hotspots tr[data-id='${id}']`)", zone["id"]
    )
