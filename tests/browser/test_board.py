"""The activation board in a real browser against a real server: positions made through the
API, a presence change arriving live without a reload, in French and in Dutch, keyboard use,
and axe-core on the open board."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Agent, api, cell_with_a_partner_seat, incident_body, record
from tests.browser.test_accessibility import assert_accessible
from tests.conftest import Server

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]

SEAT = '(id) => document.querySelector(`#board [data-row="${id}"]`)?.dataset.presence ?? null'
REACHED = "() => document.querySelector('#board .board-presence strong')?.textContent ?? null"


@asynccontextmanager
async def cell(
    server: Server, partner: str | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, str, dict[str, str]]]:
    """A cell made by an operator (yielded with the operator's client), removed afterwards by an
    administrator: the session's other browser tests read the demo's activations."""
    async with api(server, "op") as client:
        activation, seats, incident = await make_cell(client, partner)
        try:
            yield client, activation, seats
        finally:
            async with api(server, "adm") as admin:
                paths = [f"/api/positions/{seat}" for seat in seats.values()]
                paths += [f"/api/activations/{activation}", f"/api/incidents/{incident}"]
                for path in paths:
                    (await admin.delete(path)).raise_for_status()


async def make_cell(
    client: httpx.AsyncClient, partner: str | None = None
) -> tuple[str, dict[str, str], str]:
    """An incident, an activation opened for it, and three seats of its cell; with `partner`,
    the activation is shared with that organisation, whose SPOC holds the D3 seat."""
    stamp = time.monotonic_ns()
    r = await client.post(
        "/api/incidents",
        json=incident_body(f"Feu en tunnel Léopold II {stamp}", [4.3452, 50.8662]),
    )
    r.raise_for_status()
    incident = r.json()["id"]
    r = await client.post(
        "/api/activations",
        json={
            "type": "Feature",
            "geometry": None,
            "properties": {
                "title": f"GCC tunnel Léopold II {stamp}",
                "level": "crisis_cell",
                "coordinator": "high_official",
                "subject_entity": "incident",
                "subject_id": incident,
                "shared_with": [partner] if partner else [],
            },
        },
    )
    r.raise_for_status()
    activation = r.json()["id"]
    seats: dict[str, str] = {}
    for role, title, presence in (
        ("high_official", "Haut fonctionnaire", "present"),
        ("d1", "D1 — SIAMU", "acknowledged"),
        ("d3", "D3 — police", "paged"),
    ):
        props = {"title": title, "activation_id": activation, "role": role, "presence": presence}
        if partner and role == "d3":
            props["holder_organisation"] = partner
        r = await client.post(
            "/api/positions", json={"type": "Feature", "geometry": None, "properties": props}
        )
        r.raise_for_status()
        seats[role] = r.json()["id"]
    return activation, seats, incident


async def set_presence(client: httpx.AsyncClient, position: str, presence: str) -> None:
    current = (await client.get(f"/api/positions/{position}")).json()
    r = await client.patch(
        f"/api/positions/{position}",
        json={"type": "Feature", "properties": {"presence": presence}},
        headers={"If-Match": f'"{current["properties"]["version"]}"'},
    )
    r.raise_for_status()


async def test_board_shows_presence_live_in_french_and_dutch_and_passes_axe(
    agents: OpenAgent, server: Server
) -> None:
    async with cell(server) as (client, activation, seats):
        coord = await agents("coord", path=f"/#board/{activation}")
        page = coord.page
        # The linked address opened the board once the picture held the activation.
        await page.wait_for_selector(f'#board:not([hidden]) [data-row="{seats["d3"]}"]')
        assert await coord.js(REACHED) == "2 sur 3 joints"
        assert await coord.js(SEAT, seats["d3"]) == "paged"
        # The activation's subject is outlined on the map.
        linked = await coord.js("() => [...window.sitcen.mapView.linked]")
        assert any(key.startswith("incident:") for key in linked)
        await assert_accessible(coord)
        await coord.shot("board-01-fr")

        # The wall screen shows the running activation's board in a line.
        wall = await agents("off", path="/?mode=wall", color_scheme="dark", viewport=(1920, 1080))
        wall_line = f'#wall-board [data-id="{activation}"]'
        await wall.page.wait_for_selector(f"{wall_line}:has-text('2 postes joints sur 3')")

        # A presence change made elsewhere reaches the open board without a reload.
        await coord.js("() => { window.__sameDocument = true; }")
        # Every row is marked: a row drawn again is a new element, without the mark.
        await coord.js(
            "() => document.querySelectorAll('#board [data-row]')"
            ".forEach((el) => { el.__kept = 1; })"
        )
        started = time.perf_counter()
        await set_presence(client, seats["d3"], "present")
        await coord.wait_for(f"() => ({SEAT})({seats['d3']!r}) === 'present'")
        live_s = time.perf_counter() - started
        assert await coord.js("() => window.__sameDocument") is True
        assert await coord.js(REACHED) == "3 sur 3 joints"
        redrawn = await coord.js(
            "() => [...document.querySelectorAll('#board [data-row]')]"
            ".filter((el) => !el.__kept).map((el) => el.dataset.row)"
        )
        assert redrawn == [seats["d3"]]
        row = page.locator(f'#board [data-row="{seats["d3"]}"]')
        assert "Présent en salle" in await row.inner_text()
        assert await row.locator("time").count() == 1
        await wall.page.wait_for_selector(f"{wall_line}:has-text('3 postes joints sur 3')")
        await assert_accessible(wall)

        # In Dutch: the board's words and the vocabulary's, and the next change live.
        await page.select_option("#lang", "nl")
        try:
            await page.wait_for_selector("#board-h-positions:text('Posities en aanwezigheid')")
            await set_presence(client, seats["d1"], "declined")
            await coord.wait_for(f"() => ({SEAT})({seats['d1']!r}) === 'declined'")
            assert await coord.js(REACHED) == "2 van 3 bereikt"
            assert (
                "Niet beschikbaar"
                in await page.locator(f'#board [data-row="{seats["d1"]}"]').inner_text()
            )
            assert await coord.js("() => window.__sameDocument") is True
            await coord.shot("board-02-nl")
            await assert_accessible(coord)
        finally:
            await page.select_option("#lang", "fr")
        record("board_presence_live", {"change_to_board_s": round(live_s, 3)})


# The kinds other parts of issue 16 add (tasks, checklists, decisions, documents), put in the
# page's store as their changes would bring them, so that every section is drawn and checked.
CELL_OBJECTS = """(id) => {
    const app = window.sitcen;
    const kinds = ['task', 'checklist', 'decision', 'document'];
    for (const kind of kinds) app.permissions.add(`${kind}:read`);
    app.permissions.add('task:status');
    const f = (entity, fid, props) => app.store.applyFeature(entity, {
        type: 'Feature', id: fid, geometry: null,
        properties: { version: 1, activation_id: id, ...props },
    });
    const ago = (min) => new Date(Date.now() - min * 60000).toISOString();
    f('task', 't-late', { title: 'Fermer le tunnel', status: 'open', due_at: ago(30),
        priority: 'urgent' });
    f('task', 't-later', { title: 'Informer la STIB', status: 'in_progress', due_at: ago(-60) });
    f('task', 't-blocked', { title: 'Reloger', status: 'blocked', blocked_reason: 'Pas de bus' });
    f('checklist', 'c1', { title: 'Feu en tunnel', done: 1, total: 3, status: 'open', items: [
        { key: 'a', text: { fr: 'Fermer', nl: 'Sluiten', en: 'Close' }, state: 'done' },
        { key: 'b', text: { fr: 'Ventiler', nl: 'Ventileren', en: 'Ventilate' }, state: 'open' },
        { key: 'c', text: { fr: 'Évacuer', nl: 'Evacueren', en: 'Evacuate' }, state: 'open' },
    ] });
    f('decision', 'd1', { title: 'Fermer 2 h', decided_at: ago(50), decided_by_name: 'R. Dupont',
        basis: 'Avis D1' });
    f('decision', 'd2', { title: 'Fermer 4 h', decided_at: ago(20), corrects_id: 'd1' });
    f('document', 'doc1', { title: 'Plan', filename: 'plan.png', content_type: 'image/png',
        size: 120000, shareable: false, current_version: 1 });
    f('document', 'doc2', { title: 'PPUI', filename: 'ppui.pdf',
        content_type: 'application/pdf', size: 2400000, shareable: true, current_version: 2 });
}"""


async def test_board_opens_from_the_activation_and_closes_with_escape(
    agents: OpenAgent, server: Server
) -> None:
    async with cell(server) as (_, activation, seats):
        coord = await agents("coord", color_scheme="dark")
        page = coord.page
        await coord.wait_for(
            "(id) => Boolean(window.sitcen.store.get('activation', id))", activation
        )
        await coord.js("(id) => window.sitcen.openDetail('activation', id)", activation)
        board_button = page.locator(".detail [data-action=board]")
        await board_button.focus()
        await page.keyboard.press("Enter")
        await page.wait_for_selector(f'#board:not([hidden]) [data-row="{seats["d1"]}"]')
        assert await coord.js("() => location.hash") == f"#board/{activation}"
        # The focus is on the board's title; Tab reaches its close button, Escape closes it.
        assert await coord.js("() => document.activeElement.id") == "board-title"
        await page.keyboard.press("Tab")
        focused: Any = await coord.js("() => document.activeElement.dataset.action")
        assert focused == "close-board"
        await assert_accessible(coord)
        # Every section drawn (tasks, checklists, decisions with a correction, documents): axe
        # again, in the dark theme.
        await coord.js(CELL_OBJECTS, activation)
        await coord.js(
            "(id) => { const b = window.sitcen.panels.board; b.close(); b.open(id); }", activation
        )
        await page.wait_for_selector('#board [data-row="t-late"].overdue')
        await page.wait_for_selector('#board [data-row="d1"] .corrections [data-id="d2"]')
        await assert_accessible(coord)
        await coord.shot("board-03-dark")
        await page.locator("#board-title").focus()
        await page.keyboard.press("Escape")
        await page.wait_for_selector("#board", state="hidden")
        assert await coord.js("() => location.hash") == ""
        assert await page.locator("#legend").is_visible()


async def test_partner_board_shows_its_seat_live_and_no_staff_control(
    agents: OpenAgent, server: Server
) -> None:
    async with cell(server, partner="pz-5340") as (client, activation, seats):
        part = await agents("part-b", path=f"/#board/{activation}")
        page = part.page
        await page.wait_for_selector(f'#board:not([hidden]) [data-row="{seats["d3"]}"]')
        # Its own seat only: the others are internal to SITCEN.
        assert await page.locator("#board .board-position").count() == 1
        # The partner's account keeps the language it chose (another test may have set it).
        words = {
            "fr": "{r} sur {t} joints",
            "nl": "{r} van {t} bereikt",
            "en": "{r} of {t} reached",
        }
        reached = words[await part.js("() => document.documentElement.lang")]
        assert await part.js(REACHED) == reached.format(r=0, t=1)
        assert await page.locator("#board select").count() == 0
        assert await page.locator("#board .board-logbook").count() == 0
        await assert_accessible(part)
        await set_presence(client, seats["d3"], "acknowledged")
        await part.wait_for(f"() => ({SEAT})({seats['d3']!r}) === 'acknowledged'")
        assert await part.js(REACHED) == reached.format(r=1, t=1)
        await part.shot("board-04-partner")

        # Another partner is told the activation is not in its picture, and learns nothing.
        other = await agents("part", path=f"/#board/{activation}")
        await other.page.wait_for_selector("#board:not([hidden]) p.muted")
        assert await other.page.locator("#board [data-row]").count() == 0
        assert "GCC tunnel" not in await other.page.locator("#board").inner_text()


TASK = (
    '(id) => document.querySelector(`#board .board-task[data-id="${id}"]`)?.dataset.status ?? null'
)


async def test_a_task_assigned_to_a_partner_is_done_in_its_browser_and_the_board_follows(
    agents: OpenAgent, server: Server
) -> None:
    """The issue's flow: a coordinator opens an activation from an incident, seats a partner and
    pages the cell, assigns it a task; the partner's SPOC sees the task arrive live in its
    browser and marks it done there; the coordinator's board shows it done, without a reload.
    A second partner's browser never shows it."""
    stamp = time.monotonic_ns()
    async with api(server, "coord") as coord:
        activation, _ = await cell_with_a_partner_seat(
            coord, f"Feu de véhicule tunnel Belliard {stamp}", [4.3760, 50.8405]
        )
        r = await coord.post(f"/api/activations/{activation}/page", json={})
        assert r.status_code == 200, r.text

        boss = await agents("coord", path=f"/#board/{activation}")
        partner = await agents("part-b", path=f"/#board/{activation}")
        other = await agents("part", path="/")
        await partner.page.wait_for_selector("#board:not([hidden])")

        title = f"Fermer la bretelle Belliard {stamp}"
        body = {
            "type": "Feature",
            "geometry": None,
            "properties": {
                "title": title,
                "activation_id": activation,
                "owner_organisation": "pz-5340",
                "priority": "urgent",
            },
        }
        r = await coord.post("/api/tasks", json=body)
        assert r.status_code == 201, r.text
        task = r.json()["id"]

        # Live in the partner's board, with the one control it may use on it.
        await partner.wait_for(f"() => ({TASK})({task!r}) === 'open'")
        await boss.wait_for(f"() => ({TASK})({task!r}) === 'open'")
        await partner.page.click(f'#board .board-task[data-id="{task}"] button[data-status="done"]')
        await partner.wait_for(f"() => ({TASK})({task!r}) === 'done'")
        # The coordinator's board follows, without a reload.
        await boss.wait_for(f"() => ({TASK})({task!r}) === 'done'")
        assert await boss.js("() => performance.getEntriesByType('navigation').length") == 1
        done = (await coord.get(f"/api/tasks/{task}")).json()["properties"]
        assert done["status"] == "done" and done["updated_by"] == "part-b"
        await boss.shot("board-05-task-done")

        assert title not in await other.page.content()
        assert await other.js(f"() => window.sitcen?.store?.get('task', {task!r}) ?? null") is None
