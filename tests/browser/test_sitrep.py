"""The activation board's SITREPs in a real browser: a coordinator generates a draft, writes its
summary, approves it and downloads its PDF, in French; the row follows each step."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.browser.conftest import Agent
from tests.browser.test_board import cell
from tests.conftest import Server

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]
ROW = "#board .board-sitrep"


async def test_a_sitrep_is_drafted_edited_approved_and_printed_from_the_board(
    agents: OpenAgent, server: Server
) -> None:
    async with cell(server) as (_, activation, _seats):
        coord = await agents("coord", path=f"/#board/{activation}")
        page = coord.page
        await page.wait_for_selector("#board-h-sitreps:text('SITREP')")
        await page.click("[data-key='sitrep-generate']")
        row = page.locator(f"{ROW}[data-status='draft']")
        await row.wait_for()
        assert "SITREP n° 1" in await row.inner_text()
        # The draft opens for its free text.
        summary = row.locator("textarea[name='summary']")
        await summary.fill("Tunnel fermé, trafic dévié par la petite ceinture.")
        await row.locator("textarea[name='next_steps']").fill("Point de situation à 18 h.")
        await row.locator("button[type='submit']").click()
        await page.wait_for_selector(f"{ROW}:has-text('Tunnel fermé, trafic dévié')")

        await page.locator(f"{ROW} [data-key$='-approve']").click()
        approved = page.locator(f"{ROW}[data-status='approved']")
        await approved.wait_for()
        assert "approuvé par coord" in await approved.inner_text()
        assert await approved.locator("[data-key$='-edit']").count() == 0

        async with page.expect_download() as download_info:
            await approved.locator("[data-key$='-pdf']").click()
        download = await download_info.value
        assert download.suggested_filename.endswith("-fr.pdf")
        data = await asyncio.to_thread(Path(await download.path()).read_bytes)
        assert data.startswith(b"%PDF-")
        await coord.shot("board-sitrep-approved")
