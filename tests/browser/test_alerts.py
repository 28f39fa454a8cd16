"""Partner alerting at the dashboard: SITCEN composes an alert, the partner's SPOC sees it arrive
and acknowledges it, SITCEN sees the acknowledgement live; an alarm test's report fills in as
partners answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from tests.browser.conftest import SHOTS, Agent

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]

ALERT_BY_HEADLINE = """(headline) => {
    const a = window.sitcen.alerts.list().find(a => a.texts.fr && a.texts.fr.headline === headline);
    return a ? a.id : null;
}"""
ROW = '[data-alert="{alert}"] tr[data-org="pz-5339"]'


async def test_operator_alerts_a_partner_who_acknowledges_and_the_operator_sees_it_live(
    agents: OpenAgent,
) -> None:
    op = await agents("op")
    spoc = await agents("part", color_scheme="dark")
    stamp = time.monotonic_ns()
    headline_fr = f"Fermeture du tunnel Léopold II — {stamp}"
    headline_nl = f"Sluiting Leopold II-tunnel — {stamp}"
    # The SPOC reads Dutch: the alert shows in its language.
    await spoc.page.select_option("#lang", "nl")
    await spoc.page.click("#tab-alerts")

    page = op.page
    await page.click("#tab-alerts")
    await page.click("#compose-alert")
    await page.wait_for_selector("#composer[open]")
    # Nothing filled in: refused beside each field, before anything is sent.
    await page.click("#ce-send")
    assert await page.text_content("#ce-event-error") == "Obligatoire."
    assert await page.text_content("#ce-severity-error") == "Obligatoire."
    assert "partenaire" in (await page.text_content("#ce-organisations-error") or "")

    await page.select_option("#ce-status", "Exercise")
    await page.select_option("#ce-severity", "Severe")
    await page.select_option("#ce-urgency", "Expected")
    await page.fill("#ce-event", "Fermeture de tunnel")
    await page.fill("#ce-texts-fr-headline", headline_fr)
    await page.fill("#ce-texts-fr-description", "Déviation par la petite ceinture.")
    await page.fill("#ce-texts-nl-headline", headline_nl)
    await page.fill("#ce-texts-nl-description", "Omleiding via de kleine ring.")
    # A partner removed meanwhile: only the API knows, and its error shows beside the recipients.
    await op.js(
        """() => {
            const c = window.sitcen.panels.composer;
            c._read();
            c.organisations.push({code: 'zz-gone', name_fr: 'Partenaire retiré', name_nl: 'Weg'});
            c.render();
        }"""
    )
    await page.check('#composer input[name="organisation"][value="zz-gone"]')
    await page.click("#ce-send")
    await page.wait_for_function(
        "() => document.querySelector('#ce-organisations-error').textContent.includes('zz-gone')"
    )
    assert await page.is_visible("#composer[open]")
    await page.uncheck('#composer input[name="organisation"][value="zz-gone"]')
    await page.check('#composer input[name="organisation"][value="pz-5339"]')
    await op.shot("20-alert-composer")

    await op.js("() => { window.notReloaded = true; }")
    await page.click("#ce-send")
    alert_id = await op.wait_for(ALERT_BY_HEADLINE, headline_fr)
    row = ROW.format(alert=alert_id)
    await page.wait_for_selector(f'{row}[data-ack="awaiting"]')
    assert not await page.is_visible("#composer[open]")

    # The SPOC sees it arrive on /ws, in Dutch, and acknowledges it.
    item = f'.inbox-item[data-alert="{alert_id}"]'
    await spoc.page.wait_for_selector(item)
    assert (await spoc.page.text_content(f"{item} .inbox-headline")) == headline_nl
    assert "Omleiding" in (await spoc.page.text_content(item) or "")
    assert await spoc.page.locator(f"{item} .tag-exercise").count() == 1
    await spoc.shot("21-partner-alert-arrived")
    await spoc.page.click(f"{item} .ack-button")
    await spoc.page.wait_for_selector(f"{item} .ack-done")

    # The operator's panel shows it without a reload: who, how, and that it just arrived.
    await page.wait_for_selector(f'{row}[data-ack="acknowledged"]')
    ack = await page.text_content(f"{row} .ack-state") or ""
    assert "part" in ack and "tableau de bord" in ack and "reçu à l’instant" in ack
    assert await op.js("() => window.notReloaded === true")
    assert await page.text_content(f'[data-alert="{alert_id}"] .alert-tally') == "1/1 accusé(s)"
    await op.settled()
    await op.shot("22-alert-state-acknowledged")


async def test_alarm_test_report_fills_in_live_and_downloads(agents: OpenAgent) -> None:
    admin = await agents("adm")
    spoc = await agents("part")
    name = f"Test trimestriel {time.monotonic_ns()}"
    page = admin.page
    await page.click("#tab-campaigns")
    await page.fill("#campaign-name", name)
    await page.click(".campaign-partners summary")
    await page.check('.campaign-form input[name="organisation"][value="pz-5339"]')
    await page.click(".campaign-form button[type=submit]")
    campaign = await admin.wait_for(
        """(name) => {
            const h = [...document.querySelectorAll('.campaign h3')]
                .find(e => e.textContent.startsWith(name));
            return h ? h.closest('.campaign').dataset.campaign : null;
        }""",
        name,
    )
    row = f'[data-campaign="{campaign}"] tr[data-org="pz-5339"]'
    await page.wait_for_selector(f'{row}[data-answered="false"]')
    assert await page.locator(f'[data-campaign="{campaign}"] tbody tr').count() == 1
    assert "Pas de réponse" in (await page.text_content(row) or "")

    await spoc.page.click("#tab-alerts")
    alert = await admin.js(
        "(id) => window.sitcen.panels.campaigns.campaigns.find(c => c.id === id).alert", campaign
    )
    await spoc.page.click(f'.inbox-item[data-alert="{alert}"] .ack-button')

    await page.wait_for_selector(f'{row}[data-answered="true"]')
    assert " s" in (await page.text_content(f"{row} td") or "")
    await admin.shot("23-alarm-test-report")

    async with page.expect_download() as download_info:
        await page.click(f'[data-key="csv:{campaign}"]')
    download = await download_info.value
    saved = SHOTS / f"alarm-test-{campaign}.csv"
    await download.save_as(str(saved))
    text = await asyncio.to_thread(saved.read_text, encoding="utf-8")
    await asyncio.to_thread(saved.unlink)
    assert text.startswith("organisation,") and "pz-5339" in text


async def test_alert_area_is_the_open_object_or_a_polygon_drawn_on_the_map(
    agents: OpenAgent,
) -> None:
    op = await agents("op", color_scheme="dark")
    page = op.page
    incident = await op.js("() => [...window.sitcen.store.all('incident')][0].id")
    await op.js("(id) => window.sitcen.openDetail('incident', id)", incident)
    await page.click('.detail [data-action="alert"]')
    await page.wait_for_selector("#composer[open]")
    # The keyboard starts in the form; the open object is the area.
    assert await op.js("() => document.activeElement.id") == "ce-msg_type"
    assert await page.is_checked('#composer input[name="area-kind"][value="object"]')

    async def fill(headline: str) -> None:
        await page.select_option("#ce-severity", "Moderate")
        await page.fill("#ce-event", "Information")
        await page.fill("#ce-texts-fr-headline", headline)
        await page.check('#composer input[name="organisation"][value="pz-5339"]')

    about_object = f"Au sujet de l'incident — {time.monotonic_ns()}"
    await fill(about_object)
    await page.click("#ce-send")
    sent = await op.wait_for(ALERT_BY_HEADLINE, about_object)
    assert await op.js("(id) => window.sitcen.alerts.get(id).entity_id", sent) == incident

    # Drawn: the dialog gives way to the map, and comes back with the draft as it was.
    drawn = f"Zone dessinée — {time.monotonic_ns()}"
    await page.click("#compose-alert")
    await page.wait_for_selector("#composer[open]")
    await fill(drawn)
    await page.click("#ce-draw")
    await page.wait_for_selector("#banner:not([hidden])")
    assert not await page.is_visible("#composer[open]")
    box = await page.locator("#map canvas").bounding_box()
    cx, cy = box["width"] / 2, box["height"] / 2
    corners = [(cx - 120, cy - 80), (cx + 110, cy - 90), (cx + 100, cy + 70), (cx - 100, cy + 80)]
    for x, y in [*corners, corners[0]]:
        await page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
        await page.mouse.click(box["x"] + x, box["y"] + y)
    await page.wait_for_selector("#composer[open]")
    assert await page.is_checked('#composer input[name="area-kind"][value="geometry"]')
    assert await page.input_value("#ce-texts-fr-headline") == drawn
    await op.shot("24-alert-composer-dark")
    await page.click("#ce-send")
    sent = await op.wait_for(ALERT_BY_HEADLINE, drawn)
    area = await op.js("(id) => window.sitcen.alerts.get(id)", sent)
    assert area["area"]["type"] == "Polygon" and area["area_codes"]
    assert area["entity_id"] is None
    await op.settled()
    await op.shot("25-alert-state-dark")
