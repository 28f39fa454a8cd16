"""The dashboard as an agent, a partner and the crisis-cell wall see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.browser.conftest import Agent, api
from tests.conftest import PASSWORD, Server

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]

RENDERED = "(layers) => window.sitcen.mapView.map.queryRenderedFeatures({layers}).length"
VISIBILITY = "(id) => window.sitcen.mapView.map.getLayoutProperty(id, 'visibility')"
PERIMETERS = """() => [...window.sitcen.store.all('zone')]
    .filter(z => z.properties.kind === 'security_perimeter').map(z => z.properties.title)"""


def legend_count(group: str) -> str:
    return f"() => document.querySelector('[data-count=\"{group}\"]').textContent"


async def test_operator_sees_the_papal_visit_and_incidents_and_toggles_layers(
    agents: OpenAgent,
) -> None:
    op = await agents("op")
    titles = await op.js(PERIMETERS)
    assert len(titles) == 3 and all("Visite papale" in t for t in titles)
    assert await op.js(RENDERED, ["zone-security_perimeter-line"]) > 0
    assert await op.js(RENDERED, ["incident-point", "incident-cluster"]) > 0
    # Default window "now": the 2024 perimeters are outside it (greyed), the counts say so.
    assert await op.js(legend_count("zone:security_perimeter")) == "0 / 3"
    await op.page.select_option("#time-mode", "all")
    await op.wait_for(f"() => ({legend_count('zone:security_perimeter')})() === '3 / 3'")
    await op.settled()
    await op.shot("01-operator-main")

    incidents = op.page.locator('input[data-group="incident"]')
    await incidents.uncheck()
    assert await op.js(VISIBILITY, "incident-point") == "none"
    # Hidden on the next drawn frame, which software WebGL may take a while to draw.
    await op.wait_for(f"() => ({RENDERED})(['incident-point', 'incident-cluster']) === 0")
    await incidents.check()
    assert await op.js(VISIBILITY, "incident-point") == "visible"
    await op.page.locator('input[data-group="zone:hotspot"]').uncheck()
    assert await op.js(VISIBILITY, "zone-hotspot-fill") == "none"

    # Flying to an object from the feed opens its detail, with its history.
    await op.page.fill(".feed-filters input[name=text]", "Fuite de produit chimique")
    await op.page.locator(".feed-open").first.click()
    await op.page.wait_for_selector(".detail .history li")
    await op.settled()
    await op.shot("02-operator-detail")


async def test_language_switch_changes_every_label(agents: OpenAgent, server: Server) -> None:
    op = await agents("op")
    await op.page.fill(".feed-filters input[name=text]", "Fuite de produit chimique")
    await op.page.locator(".feed-open").first.click()
    category = op.page.locator('.props dd[data-field="category"]')
    perimeter = op.page.locator(
        ".legend-item", has=op.page.locator('[data-group="zone:security_perimeter"]')
    )
    expected = {
        "fr": ("Matières dangereuses", "Périmètre de sécurité", "Fil"),
        "nl": ("Gevaarlijke stoffen", "Veiligheidsperimeter", "Stroom"),
        "en": ("Hazardous materials", "Security perimeter", "Feed"),
    }
    for lang, (category_label, zone_label, tab) in expected.items():
        if lang != "fr":
            await op.page.select_option("#lang", lang)
        await op.wait_for("(lang) => document.documentElement.lang === lang", lang)
        assert await category.inner_text() == category_label
        assert zone_label in await perimeter.inner_text()
        assert await op.page.locator("#tab-feed").inner_text() == tab
        field = await op.js(
            "() => window.sitcen.mapView.map"
            ".getLayoutProperty('ref-municipality-label', 'text-field')"
        )
        assert field == ["get", f"label_{lang}"]
        if lang == "nl":
            await op.settled()
            await op.shot("03-operator-nl")
    # The choice is kept on the user's account (the server), not only in this browser.
    await op.wait_for("() => window.sitcen.me.language === 'en'")
    try:
        await op.page.reload()
        await op.page.wait_for_selector("body[data-ready=true]")
        assert await op.js("() => document.documentElement.lang") == "en"
        elsewhere = await agents("op")  # another browser: nothing stored in it
        assert await elsewhere.js("() => document.documentElement.lang") == "en"
        assert await elsewhere.page.locator("#tab-feed").inner_text() == "Feed"
        async with api(server) as client:
            assert (await client.get("/api/auth/me")).json()["language"] == "en"
    finally:
        async with api(server) as client:
            await client.patch("/api/auth/me", json={"language": "fr"})


async def test_language_picked_at_sign_in_is_saved_to_the_account(
    agents: OpenAgent, server: Server
) -> None:
    coord = await agents("coord", sign_in=False)
    try:
        await coord.page.click('[data-lang="nl"]')
        await coord.page.fill("#login-username", "coord")
        await coord.page.fill("#login-password", PASSWORD)
        await coord.page.click("#login-form button[type=submit]")
        await coord.page.wait_for_selector("body[data-ready=true]")
        assert await coord.page.locator("#tab-feed").inner_text() == "Stroom"
        await coord.wait_for("() => window.sitcen.me.language === 'nl'")
        async with api(server, "coord") as client:
            assert (await client.get("/api/auth/me")).json()["language"] == "nl"
    finally:
        async with api(server, "coord") as client:
            await client.patch("/api/auth/me", json={"language": "fr"})


async def test_landmarks_come_from_the_server_and_toggle_in_the_legend(agents: OpenAgent) -> None:
    op = await agents("op")
    landmarks = await op.js(
        """async () => (await window.sitcen.mapView.map.getSource('ref-landmark').getData())
            .features.map(f => f.properties.label_fr)"""
    )
    assert "Grand-Place" in landmarks and len(landmarks) == 12
    await op.page.fill("#search", "zuidstation")
    await op.page.wait_for_selector("#search-results li[role=option]")
    assert "Gare du Midi" in await op.page.locator("#search-results").inner_text()
    toggle = op.page.locator('input[data-group="ref:landmark"]')
    assert await op.js(VISIBILITY, "ref-landmark-point") == "visible"
    await toggle.uncheck()
    assert await op.js(VISIBILITY, "ref-landmark-point") == "none"
    assert await op.js(VISIBILITY, "ref-landmark-label") == "none"
    # No online base map is configured: no toggle for one.
    assert await op.page.locator("#basemap").count() == 0


async def test_partner_sees_only_what_is_shared_and_offers_no_edit(agents: OpenAgent) -> None:
    partner = await agents("part")
    titles: list[str] = await partner.js(
        "() => [...window.sitcen.store.all('zone')].map(z => z.properties.title)"
    )
    assert any("périmètre de sécurité Palais royal" in t for t in titles)
    assert not any("zone rouge" in t for t in titles)  # internal: not shared
    visibilities: set[str] = set(
        await partner.js(
            """() => ['incident','planned_event','demonstration','zone','activation']
                .flatMap(e => [...window.sitcen.store.all(e)].map(f => f.properties.visibility))"""
        )
    )
    assert visibilities == {"shared"}
    assert await partner.page.locator("#create-menu summary").count() == 0
    assert await partner.page.locator("#tab-logbook").is_hidden()
    await partner.page.locator(".feed-open").first.click()
    await partner.page.wait_for_selector(".detail h2")
    assert await partner.page.locator(".detail .actions button.primary").count() == 0
    await partner.shot("04-partner")


async def test_wall_mode_shows_activation_severe_incidents_and_clock_at_night(
    agents: OpenAgent, browser: Any
) -> None:
    wall = await agents("off", path="/?mode=wall", color_scheme="dark", viewport=(1920, 1080))
    assert await wall.js("() => document.documentElement.dataset.theme") == "dark"
    assert "Visite papale" in await wall.page.locator("#wall-activation").inner_text()
    assert await wall.page.locator("#wall-decisions li").count() >= 1
    severe = await wall.page.locator("#wall-severe li").all_inner_texts()
    assert any("Fuite de produit chimique" in s for s in severe)
    clock = await wall.page.locator("#clock").inner_text()
    assert len(clock) == 8 and clock.count(":") == 2
    # Read-only: nothing to create or edit.
    assert await wall.page.locator("#create-menu, .feed-list, dialog").count() == 0
    await wall.shot("05-wall-dark")
