"""The shift handover in a real browser against a real server: the outgoing operator writes the
notes and hands over from the header's handover panel; another member of the watch, on their
own dashboard, acknowledges it; the first sees it acknowledged live, without a reload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.browser.conftest import Agent, api
from tests.browser.test_accessibility import assert_accessible
from tests.conftest import Server

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]
STATUS = (
    "() => { const d = document.querySelector('#handover'); if (!d?.open) return null;"
    " const dts = [...d.querySelectorAll('.handover-facts dt')];"
    " const i = dts.findIndex((x) => ['État', 'Stand', 'Status'].includes(x.textContent));"
    " return i < 0 ? null : d.querySelectorAll('.handover-facts dd')[i].textContent; }"
)


async def test_an_operator_hands_over_and_the_next_team_acknowledges(
    agents: OpenAgent, server: Server
) -> None:
    outgoing = await agents("op")
    page = outgoing.page
    await page.wait_for_selector("#handover-open:not([hidden])")
    await page.click("#handover-open")
    await page.wait_for_selector("#handover[open] .handover-content")
    current = await outgoing.js("() => window.sitcen.panels.handover.state")
    assert current["handover"] is None or current["handover"]["status"] == "draft"
    await page.fill("#handover input[name=team]", "Équipe 4")
    await page.fill(
        "#handover textarea[name=notes]", "Pompiers toujours rue Haute ; rappeler la STIB."
    )
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("#handover [data-action=hand-over]")
    assert await outgoing.wait_for(f"() => ({STATUS})() === 'remise'")
    await outgoing.shot("handover-handed-over")

    incoming = await agents("coord")
    await incoming.page.click("#handover-open")
    await incoming.page.wait_for_selector("#handover[open] [data-action=acknowledge-handover]")
    assert "rappeler la STIB" in await incoming.page.inner_text("#handover .handover-notes")
    await incoming.page.fill("#handover input[name=note]", "Lu et compris")
    await incoming.page.click("#handover [data-action=acknowledge-handover]")
    assert await incoming.wait_for(f"() => ({STATUS})() === 'confirmée'")
    await incoming.shot("handover-acknowledged")
    await assert_accessible(incoming)

    # The outgoing operator's open panel hears of it through the logbook entry on the feed.
    assert await outgoing.wait_for(f"() => ({STATUS})() === 'confirmée'")
    facts = await page.inner_text("#handover .handover-facts")
    assert "coord" in facts
    shown = await outgoing.js("() => window.sitcen.panels.handover.state.handover")
    async with api(server) as client:
        stored = (await client.get(f"/api/handovers/{shown['id']}")).json()
    assert stored["shift_end"] == current["shift"]["end"]
    assert (stored["team"], stored["handed_over_by"], stored["acknowledged_by"]) == (
        "Équipe 4",
        "op",
        "coord",
    )
    assert stored["acknowledgement_note"] == "Lu et compris"
    assert "rappeler la STIB" in stored["notes"]
