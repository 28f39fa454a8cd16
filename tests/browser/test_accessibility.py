"""Accessibility: axe-core (the engine of @axe-core/playwright, from the frontend's own
devDependencies, read from disk: nothing is downloaded) finds no serious or critical violation
on any screen (login, the operator's picture, the partner's, the wall, the alerts tab, an open
editor), and every screen has one main landmark with all its content, map controls included,
inside landmarks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.browser.conftest import Agent
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]

AXE = PROJECT_ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
# Of moderate impact for axe, but what a screen-reader user navigates the page by.
LANDMARKS = ("landmark-one-main", "region")

# Every rule axe runs by default (WCAG 2.0-2.2 A and AA, and its best practices), with the
# violations' impact, rule, help and offending nodes, so that a failure says what to fix.
RUN_AXE = """async () => {
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 200) })),
    }));
}"""


async def violations(agent: Agent) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds on the page as it stands, and any
    about landmarks."""
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `bash scripts/setup.sh` (npm ci)")
    # Evaluated rather than added as a <script>: the page's Content-Security-Policy rightly
    # refuses inline scripts, and the test must not weaken it.
    if not await agent.js("() => typeof window.axe === 'object'"):
        await agent.page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = await agent.js(RUN_AXE)
    return [v for v in found if v["impact"] in BLOCKING or v["id"] in LANDMARKS]


async def assert_accessible(agent: Agent) -> None:
    found = await violations(agent)
    lines = []
    for v in found:
        lines.append(f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])} nodes)")
        lines += [f"    {n['target']}  {n['html']}" for n in v["nodes"][:5]]
    assert not found, "\n".join(lines)


async def test_login_page_passes_axe(agents: OpenAgent) -> None:
    login = await agents("op", sign_in=False)
    await login.page.wait_for_selector("#login-form")
    await assert_accessible(login)


async def test_operators_picture_with_its_feed_passes_axe(agents: OpenAgent) -> None:
    op = await agents("op")
    await op.page.wait_for_selector(".feed-open")
    await assert_accessible(op)


async def test_partners_picture_passes_axe(agents: OpenAgent) -> None:
    partner = await agents("part")
    await partner.page.wait_for_selector(".feed-open")
    await assert_accessible(partner)


async def test_wall_has_a_main_landmark_and_passes_axe(agents: OpenAgent) -> None:
    wall = await agents("off", path="/?mode=wall", color_scheme="dark", viewport=(1920, 1080))
    await wall.page.wait_for_selector("#wall-severe li")
    await assert_accessible(wall)


async def test_alerts_tab_passes_axe(agents: OpenAgent) -> None:
    op = await agents("op")
    await op.page.click("#tab-alerts")
    await op.page.wait_for_selector("#panel-alerts:not([hidden]) #compose-alert")
    await assert_accessible(op)


async def test_partners_inbox_with_its_push_toggle_passes_axe(agents: OpenAgent) -> None:
    partner = await agents("part")
    await partner.page.click("#tab-alerts")
    await partner.page.wait_for_selector("#panel-alerts:not([hidden]) .push-toggle")
    await assert_accessible(partner)


async def test_open_editor_passes_axe(agents: OpenAgent) -> None:
    op = await agents("op")
    await op.page.fill(".feed-filters input[name=text]", "Fuite de produit chimique")
    await op.page.locator(".feed-open").first.click()
    await op.page.wait_for_selector(".detail h2")
    await op.page.locator(".detail .actions button.primary").first.click()
    await op.page.wait_for_selector("dialog#editor[open] form")
    await assert_accessible(op)
