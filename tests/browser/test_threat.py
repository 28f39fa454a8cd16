"""The national threat level on every screen: the operator's header and the wall show the level
that stands, in the screen's language, and follow it live when OCAM/CUTA's new level is
recorded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.browser.conftest import Agent, api
from tests.conftest import Server

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]
BADGE = "#threat"


async def test_the_header_and_the_wall_show_the_level_and_follow_it_live(
    agents: OpenAgent, server: Server
) -> None:
    async with api(server, "coord") as coord:
        current = (await coord.get("/api/threat-level")).json()["general"]
        first = 2 if current is None or current["level"] != 2 else 3
        r = await coord.post(
            "/api/threat-level",
            json={"level": first, "reason": "Réévaluation", "source_reference": "OCAM/2026/B1"},
        )
        assert r.status_code == 201, r.text
        # The screens read French (another test may have left an account in Dutch).
        for who in ("op", "off"):
            async with api(server, who) as client:
                r = await client.patch("/api/auth/me", json={"language": "fr"})
                assert r.status_code == 200, r.text
        desk = await agents("op")
        wall = await agents("off", path="/?mode=wall", viewport=(1920, 1080))
        for screen in (desk, wall):
            await screen.page.wait_for_selector(f'{BADGE}[data-level="{first}"]')
        words = {2: "2 — Moyen", 3: "3 — Grave"}[first]
        assert words in await desk.page.text_content(BADGE)

        r = await coord.post(
            "/api/threat-level",
            json={
                "level": 4,
                "sector": "jewish_community",
                "reason": "Menace sérieuse et imminente",
                "source_reference": "OCAM/2026/B2",
            },
        )
        assert r.status_code == 201, r.text
        r = await coord.post(
            "/api/threat-level",
            json={"level": 4, "reason": "Attentat", "source_reference": "OCAM/2026/B3"},
        )
        assert r.status_code == 201, r.text
        for screen in (desk, wall):
            await screen.page.wait_for_selector(f'{BADGE}[data-level="4"]')
        assert "4 — Très grave" in await wall.page.text_content(BADGE)
        await wall.page.wait_for_selector("#wall-threat li:has-text('Communauté juive')")
        assert "OCAM/2026/B3" in (await desk.page.get_attribute(BADGE, "title") or "")

        await desk.page.select_option("#lang", "nl")
        await desk.page.wait_for_selector(f"{BADGE}:has-text('4 — Zeer ernstig')")
        await desk.page.select_option("#lang", "fr")


async def test_the_watch_records_a_level_from_the_header_and_sees_its_errors_first(
    agents: OpenAgent, server: Server
) -> None:
    async with api(server, "op") as client:
        r = await client.patch("/api/auth/me", json={"language": "fr"})
        assert r.status_code == 200, r.text
    desk = await agents("op")
    page = desk.page
    await page.click("#threat-set")
    await page.wait_for_selector("#threat-form[open]")
    # Lifting the general level is refused beside its field, and nothing is sent.
    await page.select_option("#tf-level", "lift")
    await page.fill("#tf-reason", "Levée")
    await page.fill("#tf-source_reference", "OCAM/2026/F0")
    await page.click("#tf-submit")
    await page.wait_for_selector("#tf-level-error:has-text('ne se lève pas')")

    await page.select_option("#tf-level", "3")
    await page.select_option("#tf-sector", "public_transport")
    await page.fill("#tf-reason", "Menace possible et vraisemblable pour le métro")
    await page.fill("#tf-source_reference", "OCAM/2026/F1")
    await page.click("#tf-submit")
    await page.wait_for_selector("#threat-form", state="hidden")
    async with api(server, "op") as client:
        standing = (await client.get("/api/threat-level")).json()
    (metro,) = [s for s in standing["specific"] if s.get("sector") == "public_transport"]
    assert metro["level"] == 3 and metro["source_reference"] == "OCAM/2026/F1"
    assert metro["set_by"] == "op"
