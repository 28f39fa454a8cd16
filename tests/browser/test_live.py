"""Two agents at work: live updates between them, edit conflicts, drawing, and a server restart."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.settings import Settings
from tests.browser.conftest import Agent, api, incident_body, record
from tests.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]

HAS = "([entity, id]) => Boolean(window.sitcen.store.get(entity, id))"
ON_MAP = "(id) => window.sitcen.mapView.derived.get('incident').has(id)"
IN_FEED = '(id) => Boolean(document.querySelector(`.feed-item[data-id="${id}"]`))'


async def create_incident_in_ui(agent: Agent, title: str, at: tuple[float, float]) -> None:
    """New → incident → a click on the map → the form (everything up to Save)."""
    page = agent.page
    await page.click("#create-menu summary")
    await page.click('[data-create="incident:pick"]')
    await page.wait_for_selector("#banner:not([hidden])")
    point = await agent.js(
        "([lng, lat]) => window.sitcen.mapView.map.project([lng, lat])", list(at)
    )
    box = await page.locator("#map canvas").bounding_box()
    await page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    await page.wait_for_selector("#editor[open]")
    await page.fill("#f-title", title)
    await page.select_option("#f-category", "fire")
    await page.select_option("#f-severity", "severe")


async def open_editor(agent: Agent, incident_id: str) -> None:
    """The incident's detail panel, then its Edit button: the form open on it."""
    await agent.wait_for(HAS, ["incident", incident_id])
    await agent.js("(id) => window.sitcen.openDetail('incident', id)", incident_id)
    await agent.page.click(".detail .actions button.primary")
    await agent.page.wait_for_selector("#editor[open]")


async def test_incident_created_by_one_agent_appears_for_the_other(agents: OpenAgent) -> None:
    writer = await agents("op")
    watcher = await agents("coord")
    title = f"Feu de toiture — rue Haute {time.monotonic_ns()}"
    await create_incident_in_ui(writer, title, (4.3480, 50.8390))

    started = time.perf_counter()
    await writer.page.click("#editor button[type=submit]")
    found = await watcher.wait_for(
        """(title) => {
            const all = [...window.sitcen.store.all('incident')];
            const f = all.find(i => i.properties.title === title);
            return f ? f.id : null;
        }""",
        title,
    )
    in_store = time.perf_counter() - started
    await watcher.wait_for(IN_FEED, found)
    await watcher.wait_for(ON_MAP, found)
    await watcher.settled()
    on_screen = time.perf_counter() - started
    record(
        "incident_between_agents",
        {"in_store_s": round(in_store, 3), "in_feed_and_drawn_s": round(on_screen, 3)},
    )
    # Current (not greyed as outside "now"), on the writer's map too; the watcher is told it
    # is a new severe incident.
    assert (
        await watcher.js(
            "(id) => window.sitcen.mapView.derived.get('incident').get(id).properties.out", found
        )
        is False
    )
    assert await writer.js(HAS, ["incident", found])
    assert await watcher.page.locator("#unread").inner_text() == "1"
    assert await watcher.page.locator(".toast-severe").count() == 1
    await watcher.shot("06-watcher-sees-new-incident")


async def test_concurrent_edit_shows_the_conflict_to_the_second_agent(
    agents: OpenAgent, server: Server
) -> None:
    async with api(server) as client:
        r = await client.post(
            "/api/incidents",
            json=incident_body(
                "Colis suspect — gare Centrale", [4.3571, 50.8455], category="suspicious_package"
            ),
        )
        incident_id = r.json()["id"]
        first = await agents("op")
        second = await agents("coord")
        for agent in (first, second):
            await open_editor(agent, incident_id)

        await first.page.select_option("#f-severity", "severe")
        await first.page.click("#editor button[type=submit]")
        # The second agent's open form says at once that someone else changed the object.
        await second.page.wait_for_selector("#editor .notice:not([hidden])")
        await second.page.fill("#f-place", "Hall de la gare Centrale, quai 3")
        await second.page.click("#editor button[type=submit]")
        await second.page.wait_for_selector("#conflict[open]")

        stored = (await client.get(f"/api/incidents/{incident_id}")).json()["properties"]
        assert (stored["version"], stored["severity"], stored["place"]) == (2, "severe", None)
        rows = await second.page.locator("#conflict tbody tr").evaluate_all(
            "rows => rows.map(r => [r.dataset.field, ...[...r.cells].map(c => c.textContent)])"
        )
        by_field = {row[0]: row[1:] for row in rows}
        assert by_field["place"][1:] == ["Hall de la gare Centrale, quai 3", "—"]
        assert by_field["severity"][1:] == ["Modérée", "Grave"]
        await second.shot("07-conflict")

        await second.page.click('#conflict [data-choice="mine"]')
        deadline = time.monotonic() + 10
        while (stored := (await client.get(f"/api/incidents/{incident_id}")).json()["properties"])[
            "version"
        ] < 3:
            assert time.monotonic() < deadline, "the second agent's choice was not saved"
            await asyncio.sleep(0.1)
        assert (stored["severity"], stored["place"]) == (
            "severe",
            "Hall de la gare Centrale, quai 3",
        )
        # Both agents end up with the same object.
        for agent in (first, second):
            await agent.wait_for(
                "(id) => window.sitcen.store.get('incident', id).properties.version === 3",
                incident_id,
            )


async def test_polygon_zone_drawn_on_the_map_is_stored_with_its_geometry(
    agents: OpenAgent, server: Server
) -> None:
    op = await agents("op")
    page = op.page
    await page.click("#create-menu summary")
    await page.click('[data-create="zone:polygon"]')
    await page.wait_for_selector("#banner:not([hidden])")
    box = await page.locator("#map canvas").bounding_box()
    cx, cy = box["width"] / 2, box["height"] / 2
    corners = [(cx - 140, cy - 90), (cx + 120, cy - 100), (cx + 150, cy + 80), (cx - 110, cy + 95)]
    expected = await op.js(
        "(points) => points.map(([x, y]) => window.sitcen.mapView.map.unproject([x, y]).toArray())",
        [list(c) for c in corners],
    )
    for x, y in corners:
        await page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
        await page.mouse.click(box["x"] + x, box["y"] + y)
    await op.shot("08-drawing-zone")
    first_x, first_y = corners[0]
    await page.mouse.move(box["x"] + first_x, box["y"] + first_y, steps=4)
    await page.mouse.click(box["x"] + first_x, box["y"] + first_y)
    await page.wait_for_selector("#editor[open]")
    title = f"Périmètre d'exclusion drones — test {time.monotonic_ns()}"
    await page.fill("#f-title", title)
    await page.select_option("#f-kind", "drone_ban")
    await page.click("#editor button[type=submit]")
    zone_id = await op.wait_for(
        """(title) => {
            const z = [...window.sitcen.store.all('zone')].find(f => f.properties.title === title);
            return z ? z.id : null;
        }""",
        title,
    )
    async with api(server) as client:
        stored = (await client.get(f"/api/zones/{zone_id}")).json()
    assert stored["properties"]["kind"] == "drone_ban"
    assert stored["geometry"]["type"] == "Polygon"
    ring = stored["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 5
    for lng, lat in expected:
        assert any(abs(lng - x) < 2e-5 and abs(lat - y) < 2e-5 for x, y in ring[:-1]), (
            lng,
            lat,
            ring,
        )
    await op.settled()
    await op.shot("09-zone-drawn")

    # Its geometry is edited on the map: a corner dragged, then saved with If-Match.
    await page.wait_for_selector(".detail h2")
    await page.click(".detail .actions button:has-text('Modifier la géométrie')")
    await page.wait_for_selector("#banner:not([hidden])")
    corner = await op.js(
        "(lnglat) => window.sitcen.mapView.map.project(lnglat)", list(stored_corner(stored))
    )
    x, y = box["x"] + corner["x"], box["y"] + corner["y"]
    await page.mouse.move(x, y, steps=3)
    await page.mouse.down()
    await page.mouse.move(x + 60, y + 40, steps=8)
    await page.mouse.up()
    await page.click("#banner button.primary")
    async with api(server) as client:
        deadline = time.monotonic() + 10
        while (moved := (await client.get(f"/api/zones/{zone_id}")).json())["properties"][
            "version"
        ] < 2:
            assert time.monotonic() < deadline, "the edited geometry was not saved"
            await asyncio.sleep(0.1)
    assert moved["geometry"]["type"] == "Polygon"
    assert stored_corner(moved) not in [tuple(p) for p in stored["geometry"]["coordinates"][0]]

    # And a logbook entry about it, from its detail.
    await page.click(".detail .actions button:has-text('Ajouter au journal')")
    await page.fill(".logbook-form input[name=title]", "Périmètre communiqué à la police fédérale")
    await page.select_option(".logbook-form select[name=kind]", "communication")
    await page.click(".logbook-form button[type=submit]")
    async with api(server) as client:
        deadline = time.monotonic() + 10
        while not (
            entries := (await client.get(f"/api/logbook?subject={zone_id}")).json()["features"]
        ):
            assert time.monotonic() < deadline, "the logbook entry was not stored"
            await asyncio.sleep(0.1)
    assert entries[0]["properties"]["kind"] == "communication"
    assert entries[0]["properties"]["subject_entity"] == "zone"


def stored_corner(feature: dict[str, Any]) -> tuple[float, float]:
    """The first corner of a stored polygon."""
    lng, lat = feature["geometry"]["coordinates"][0][0]
    return lng, lat


async def test_page_reconnects_after_a_server_restart_and_catches_up(
    agents: OpenAgent, server: Server, settings: Settings
) -> None:
    own: Server | None = start_server(settings, name="browser-restart")
    assert own is not None
    port = int(own.url.rsplit(":", 1)[1])
    try:
        agent = await agents("op", own)
        ids: list[str] = []
        # The session's server takes the writes while this page's server is down.
        async with api(server) as writer:

            async def write(n: int) -> None:
                for i in range(n):
                    body = incident_body(
                        f"Dégâts des eaux n°{len(ids) + 1}",
                        [4.33 + i / 200, 50.84],
                        category="flooding_storm",
                    )
                    ids.append((await writer.post("/api/incidents", json=body)).json()["id"])

            await write(2)
            for incident_id in ids:
                await agent.wait_for(HAS, ["incident", incident_id])

            await asyncio.to_thread(stop_server, own)
            own = None
            status = await agent.wait_for(
                "() => ['reconnecting', 'offline'].find(s => s === window.sitcen.connection.status)"
            )
            text = await agent.page.locator("#conn").inner_text()
            assert ("Reconnexion" in text or "Hors ligne" in text) and "depuis" in text, text
            await agent.shot(f"10-{status}")
            await write(5)

            own = await asyncio.to_thread(start_server, settings, port, None, "browser-restart")
            await agent.wait_for(
                "() => window.sitcen.connection.status === 'live'", within_ms=60_000
            )
            head = (await writer.get("/api/health")).json()["head"]
            await agent.wait_for("(head) => window.sitcen.store.seq >= head", head)
            for incident_id in ids:
                assert await agent.js(HAS, ["incident", incident_id])
                await agent.wait_for(IN_FEED, incident_id)
            assert "En direct" in await agent.page.locator("#conn").inner_text()
            await agent.settled()
            await agent.shot("11-caught-up")
    finally:
        if own is not None:
            stop_server(own)


async def test_incident_placed_by_searching_a_landmark(agents: OpenAgent, server: Server) -> None:
    op = await agents("op")
    page = op.page
    await page.click("#create-menu summary")
    await page.click('[data-create="incident:pick"]')
    await page.fill("#search", "atomium")
    await page.wait_for_selector("#search-results li[role=option]")
    await page.press("#search", "Enter")
    await page.wait_for_selector("#editor[open]")
    title = f"Malaise collectif — Atomium {time.monotonic_ns()}"
    await page.fill("#f-title", title)
    await page.select_option("#f-category", "health")
    await page.select_option("#f-severity", "moderate")
    await page.click("#editor button[type=submit]")
    incident_id = await op.wait_for(
        """(title) => {
            const all = [...window.sitcen.store.all('incident')];
            const f = all.find(i => i.properties.title === title);
            return f ? f.id : null;
        }""",
        title,
    )
    async with api(server) as client:
        stored = (await client.get(f"/api/incidents/{incident_id}")).json()
    assert stored["geometry"] == {"type": "Point", "coordinates": [4.3415, 50.8949]}
    assert stored["properties"]["municipality"]["name_fr"] == "Bruxelles"


UNAVAILABLE = {
    "status": 503,
    "content_type": "application/problem+json",
    "headers": {"Retry-After": "5"},
    "body": json.dumps(
        {
            "type": "https://sitcen.safe.brussels/problems/database-unavailable",
            "title": "Database unavailable",
            "status": 503,
            "detail": "the database cannot be reached right now; retry in a few seconds",
        }
    ),
}
FORM_PROBLEM = "#editor form p.error[role=alert]"
BY_TITLE = """(title) => {
    const f = [...window.sitcen.store.all('incident')].find(i => i.properties.title === title);
    return f ? f.id : null;
}"""


async def test_a_create_whose_answer_was_lost_is_sent_again_without_a_duplicate(
    agents: OpenAgent, server: Server
) -> None:
    """The server saved the incident but its answer never came back (a 503 on the way): the
    form stays with what was typed and says why in French; sending it again answers the
    first incident instead of making a second one."""
    op = await agents("op")
    page = op.page
    title = f"Odeur de gaz — réponse perdue {time.monotonic_ns()}"
    await create_incident_in_ui(op, title, (4.3560, 50.8450))
    answers: list[int] = []

    async def lose_the_first_answer(route: Any) -> None:
        if route.request.method != "POST" or answers:
            await route.fallback()
            return
        answers.append((await route.fetch()).status)  # saved by the server…
        await route.fulfill(**UNAVAILABLE)  # …and answered 503 to the page

    await page.route("**/api/incidents", lose_the_first_answer)
    await page.click("#editor button[type=submit]")
    problem = page.locator(FORM_PROBLEM)
    await problem.wait_for()
    assert (await problem.inner_text()).startswith("Service momentanément indisponible")
    assert await page.input_value("#f-title") == title
    await op.shot("08-create-answer-lost")

    await page.click("#editor button[type=submit]")
    await page.wait_for_selector("#editor:not([open])", state="attached")
    incident_id = await op.wait_for(BY_TITLE, title)
    async with api(server) as client:
        found = (await client.get("/api/incidents", params={"q": title})).json()["features"]
    assert answers == [201]
    assert [f["id"] for f in found] == [incident_id], "one incident, not two"


async def test_an_edit_the_server_could_not_take_comes_back_to_be_sent_again(
    agents: OpenAgent, server: Server
) -> None:
    async with api(server) as client:
        r = await client.post(
            "/api/incidents",
            json=incident_body("Inondation — tunnel Belliard", [4.3760, 50.8400]),
        )
        incident_id = r.json()["id"]
        op = await agents("op")
        page = op.page
        await open_editor(op, incident_id)
        await page.fill("#f-place", "Tunnel Belliard, sortie Schuman")

        async def database_down(route: Any) -> None:
            if route.request.method == "PATCH":
                await route.fulfill(**UNAVAILABLE)
            else:
                await route.fallback()

        await page.route(f"**/api/incidents/{incident_id}", database_down)
        await page.click("#editor button[type=submit]")
        problem = page.locator(FORM_PROBLEM)
        await problem.wait_for()
        assert (await problem.inner_text()).startswith("Service momentanément indisponible")
        assert await page.input_value("#f-place") == "Tunnel Belliard, sortie Schuman"

        await page.unroute(f"**/api/incidents/{incident_id}")
        await page.click("#editor button[type=submit]")
        await op.wait_for(
            "(id) => window.sitcen.store.get('incident', id).properties.version === 2",
            incident_id,
        )
        stored = (await client.get(f"/api/incidents/{incident_id}")).json()["properties"]
        assert (stored["version"], stored["place"]) == (2, "Tunnel Belliard, sortie Schuman")


async def test_the_page_may_open_a_websocket_to_its_own_origin_only(
    agents: OpenAgent, server: Server
) -> None:
    """connect-src 'self': the dashboard's own /ws connects (ws: on the page's host and port);
    a script's WebSocket to any other host is refused by the browser, which the policy's former
    `ws: wss:` allowed."""
    agent = await agents("op")
    port = urlsplit(server.url).port
    outcome = await agent.js(
        """async (port) => {
            const violation = new Promise((resolve) => {
                document.addEventListener('securitypolicyviolation', (e) =>
                    resolve(`${e.effectiveDirective} ${e.blockedURI}`));
                setTimeout(() => resolve(null), 5000);
            });
            const attempt = (url) => new Promise((resolve) => {
                let ws;
                try {
                    ws = new WebSocket(url);
                } catch (e) {
                    resolve(`refused: ${e.name}`);
                    return;
                }
                ws.onopen = () => { ws.close(); resolve('open'); };
                ws.onerror = () => resolve('error');
            });
            const own = await attempt(`ws://127.0.0.1:${port}/ws`);
            const other = await attempt(`ws://localhost:${port}/ws`);
            return { own, other, violation: await violation };
        }""",
        port,
    )
    assert outcome["own"] == "open", outcome
    assert outcome["other"] != "open", outcome
    assert outcome["violation"] == f"connect-src ws://localhost:{port}/ws", outcome
