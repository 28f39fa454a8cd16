"""The year's figures at the dashboard: the High Official reads the table and its charts in
their language; the watch is not offered the tab."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.browser.conftest import Agent
from tests.browser.test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]


async def test_the_official_reads_the_years_figures_with_charts(agents: OpenAgent) -> None:
    official = await agents("off")
    page = official.page
    await page.click("#tab-stats")
    await page.wait_for_selector(".stats-table[data-year]")
    await page.select_option("#stats-year", "2024")
    await page.wait_for_selector('.stats-table[data-year="2024"]')
    # The demo scenario's two 2024 activations at least (other tests may add theirs).
    cell = page.locator('.stats-table tr[data-figure="activations"] td')
    assert int((await cell.text_content() or "0").replace("\u202f", "").replace(" ", "")) >= 2
    assert "Activations GCC" in (await page.text_content(".stats-table") or "")
    charts = await official.js("() => window.sitcen.panels.stats.charts.map(c => c.config.type)")
    assert charts == ["bar", "bar"]
    months = await official.js("() => window.sitcen.panels.stats.charts[0].data.labels.length")
    assert months == 12
    places = await official.js("() => window.sitcen.panels.stats.charts[1].data.labels")
    assert "Bruxelles" in places
    await official.shot("30-years-figures-fr")
    await assert_accessible(official)

    await page.select_option("#lang", "nl")
    try:
        await page.wait_for_selector("text=De cijfers van het jaar")
        places = await official.js("() => window.sitcen.panels.stats.charts[1].data.labels")
        assert "Brussel" in places
        await official.shot("31-years-figures-nl")
    finally:
        # The account keeps the language chosen: French again for the tests that follow.
        await page.select_option("#lang", "fr")
        await official.wait_for("() => window.sitcen.me.language === 'fr'")


async def test_the_watch_is_not_offered_the_figures(agents: OpenAgent) -> None:
    operator = await agents("op")
    assert await operator.page.locator("#tab-stats").is_hidden()
    assert await operator.js("() => window.sitcen.panels.stats === undefined")


async def test_the_figures_in_the_dark_theme_pass_axe(agents: OpenAgent) -> None:
    admin = await agents("adm", color_scheme="dark")
    await admin.page.click("#tab-stats")
    await admin.page.wait_for_selector(".stats-table[data-year]")
    await admin.page.click('.stats-breakdown[data-breakdown="incidents_by_category"] summary')
    await assert_accessible(admin)
    await admin.shot("32-years-figures-dark")
