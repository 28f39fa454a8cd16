"""The dashboard's feed exports what its filters show, as the signed-in user may see it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Agent, agents, api, browser, demo  # noqa: F401 (fixtures)
from tests.exchange.helpers import csv_rows, marker

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]


async def test_the_feed_exports_its_filtered_view(agents: OpenAgent, server: Any) -> None:  # noqa: F811
    mark = marker()
    async with api(server) as op:
        for title, severity in ((f"{mark} grave", "severe"), (f"{mark} mineur", "minor")):
            r = await op.post(
                "/api/incidents",
                json={
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [4.3525, 50.8467]},
                    "properties": {"title": title, "category": "fire", "severity": severity},
                },
            )
            assert r.status_code == 201, r.text
    agent = await agents("op")
    page = agent.page
    csv_button = page.locator(".feed-export button[data-format=csv]")
    assert await csv_button.is_disabled()  # an export is of one type
    await page.select_option(".feed-filters select[name=type]", "incident")
    await page.select_option(".feed-filters select[name=severity]", "severe")
    await page.fill(".feed-filters input[name=text]", mark)
    assert not await csv_button.is_disabled()
    async with page.expect_download() as download_info:
        await csv_button.click()
    download = await download_info.value
    assert download.suggested_filename.startswith("sitcen-incidents-")
    saved = Path(await download.path())
    rows = csv_rows(await asyncio.to_thread(saved.read_text, encoding="utf-8"))
    assert [r["title"] for r in rows] == [f"{mark} grave"]
    await agent.shot("exchange-feed-export")
