"""Phones and tablets (issue 21): the dashboard in a phone's and a tablet's emulation (their
viewport, touch, a mobile browser's layout viewport and pixel density). The map comes first on
the first screen; the panels are a sheet over it and the header a menu; nothing scrolls
sideways on any screen; controls are touch-sized; axe finds no serious or critical violation.
In the field: where am I (an emulated geolocation), the zones around, and a quick report with a
photo that the watch sees arrive; an alert acknowledged and a task done from a phone."""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.browser.conftest import Agent, api, cell_with_a_partner_seat
from tests.browser.test_accessibility import assert_accessible
from tests.conftest import Server

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 740}}
TABLET = {
    "viewport": {"width": 820, "height": 1180},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DEVICES = {"phone": PHONE, "small-phone": SMALL_PHONE, "tablet": TABLET}

# Whether anything makes the page wider than the screen, and of the open panel whether any of
# its content is cut off sideways (a box wider than the panel that does not scroll itself).
OVERFLOW = """() => {
    const doc = document.documentElement;
    const out = [];
    if (doc.scrollWidth > innerWidth) out.push(`page ${doc.scrollWidth} > ${innerWidth}`);
    const boxes = '.side .panel:not([hidden]), #board:not([hidden]), .topbar';
    for (const el of document.querySelectorAll(boxes)) {
        if (!el.getClientRects().length) continue;
        const name = el.id || el.className;
        if (el.scrollWidth > el.clientWidth + 1)
            out.push(`${name} ${el.scrollWidth} > ${el.clientWidth}`);
        const r = el.getBoundingClientRect();
        if (r.left < -1 || r.right > innerWidth + 1)
            out.push(`${name} from ${r.left} to ${r.right}`);
    }
    return out;
}"""

# The controls a finger must hit, as laid out, that are smaller than 44 × 44 CSS pixels.
SMALL_TARGETS = """(selector) => [...document.querySelectorAll(selector)]
    .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
    .map((el) => [el, el.getBoundingClientRect()])
    .filter(([, r]) => r.width < 44 || r.height < 44)
    .map(([el, r]) => `${el.tagName}#${el.id}.${el.className} ${r.width}x${r.height}`)"""
TARGETS = (
    ".topbar button, .topbar summary, .topbar select, .topbar .button, "
    ".topbar input:not([type=checkbox]), "
    ".side [role=tab], .sheet-toggle, .maplibregl-ctrl-group button, .field-panel button, "
    ".field-panel select, .field-panel input"
)

MAP_BOX = """() => {
    const r = document.querySelector('#map').getBoundingClientRect();
    const side = document.querySelector('.side').getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, width: r.width, sheetTop: side.top,
            height: innerHeight, innerWidth};
}"""

TASK_STATUS = (
    '(id) => document.querySelector(`#board .board-task[data-id="${id}"]`)?.dataset.status'
)

# A PNG of 1 × 1 pixel: the smallest photo a phone could send.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


async def no_overflow(agent: Agent, where: str) -> None:
    found = await agent.js(OVERFLOW)
    assert not found, f"{where}: {found}"


async def open_tab(agent: Agent, name: str) -> None:
    await agent.page.tap(f"#tab-{name}")
    await agent.page.wait_for_selector(f"#panel-{name}:not([hidden])")
    await agent.wait_for(
        "() => !document.querySelector('.side').classList.contains('sheet-collapsed')"
    )


@pytest.mark.parametrize("device", ["phone", "small-phone", "tablet"])
async def test_the_map_comes_first_and_nothing_scrolls_sideways(
    agents: OpenAgent, device: str
) -> None:
    op = await agents("op", device=DEVICES[device])
    page = op.page
    assert await op.js("() => matchMedia('(pointer: coarse)').matches")
    # The map is under a one-line bar, and most of the first screen, the sheet folded.
    box = await op.js(MAP_BOX)
    assert box["top"] < 80, box
    assert box["width"] == box["innerWidth"]
    assert box["sheetTop"] - box["top"] > 0.6 * box["height"], box
    assert not await page.is_visible("#search")
    assert not await page.is_visible("#legend")
    await no_overflow(op, "folded")
    assert not await op.js(SMALL_TARGETS, TARGETS)
    await op.shot(f"mobile-01-{device}-map")

    # Each panel the operator has, in the sheet over the map: none wider than the screen.
    tabs = await op.js(
        "() => [...document.querySelectorAll('.side [role=tab]')]"
        ".filter((t) => t.getClientRects().length).map((t) => t.dataset.tab)"
    )
    assert {"feed", "detail", "logbook", "alerts", "field"} <= set(tabs)
    for name in tabs:
        await open_tab(op, name)
        await op.page.wait_for_timeout(50)
        await no_overflow(op, name)
    await open_tab(op, "feed")
    await page.wait_for_selector(".feed-open")
    box = await op.js(MAP_BOX)
    assert box["sheetTop"] > box["top"] + 150, "the map stays in sight above the sheet"
    await op.shot(f"mobile-02-{device}-feed")
    # A tap on the open tab folds the sheet again.
    await page.tap("#tab-feed")
    await op.wait_for("() => document.querySelector('.side').classList.contains('sheet-collapsed')")

    # The header's controls are in the menu: opened, they are all usable and touch-sized.
    await page.tap("#menu-toggle")
    assert await page.get_attribute("#menu-toggle", "aria-expanded") == "true"
    assert await page.is_visible("#search") and await page.is_visible("#logout")
    await no_overflow(op, "menu")
    assert not await op.js(SMALL_TARGETS, TARGETS)
    await op.shot(f"mobile-03-{device}-menu")
    await page.keyboard.press("Escape")
    assert not await page.is_visible("#search")
    assert await op.js("() => document.activeElement.id") == "menu-toggle"


async def test_phone_passes_axe_in_each_language_and_the_dark_theme(agents: OpenAgent) -> None:
    op = await agents("op", device=PHONE, color_scheme="dark")
    page = op.page
    await assert_accessible(op)
    await open_tab(op, "feed")
    await page.wait_for_selector(".feed-open")
    await assert_accessible(op)
    await page.tap("#menu-toggle")
    await assert_accessible(op)
    titles = {}
    for lang in ("nl", "en", "fr"):
        await page.select_option("#lang", lang)
        titles[lang] = await page.text_content("#tab-field")
        await no_overflow(op, lang)
    assert titles == {"nl": "Terrein", "en": "Field", "fr": "Terrain"}
    await page.keyboard.press("Escape")
    await open_tab(op, "field")
    await assert_accessible(op)
    # The tabs are reached and changed with the keyboard as on the desktop.
    await page.focus("#tab-field")
    await page.keyboard.press("ArrowLeft")
    assert await op.js("() => document.activeElement.dataset.tab") != "field"
    await op.shot("mobile-04-phone-dark")


async def test_the_desktop_offers_no_field_tab_nor_menu(agents: OpenAgent) -> None:
    op = await agents("op")
    assert not await op.page.is_visible("#tab-field")
    assert not await op.page.is_visible("#menu-toggle")
    assert not await op.page.is_visible(".sheet-toggle")
    assert await op.page.is_visible("#search") and await op.page.is_visible("#legend")
    await op.page.focus("#tab-feed")
    await op.page.keyboard.press("ArrowLeft")
    assert await op.js("() => document.activeElement.dataset.tab") != "field"


async def test_where_am_i_lists_the_zones_around_nearest_first(
    agents: OpenAgent, server: Server
) -> None:
    stamp = time.monotonic_ns()
    here = [4.3380, 50.8180]  # a quiet spot of Forest
    d = 0.0008
    square = [[here[0] - d, here[1] - d], [here[0] + d, here[1] - d], [here[0] + d, here[1] + d],
              [here[0] - d, here[1] + d], [here[0] - d, here[1] - d]]  # fmt: skip
    east = [[x + 0.006, y] for x, y in square]  # about 360 m further east
    zones = {}
    async with api(server, "coord") as client:
        for name, ring in (("inside", square), ("east", east)):
            body = {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"title": f"Périmètre {name} {stamp}", "kind": "security_perimeter"},
            }
            r = await client.post("/api/zones", json=body)
            assert r.status_code == 201, r.text
            zones[name] = r.json()["id"]

    op = await agents("op", device=PHONE)
    await op.context.grant_permissions(["geolocation"], origin=server.url)
    await op.context.set_geolocation({"longitude": here[0], "latitude": here[1], "accuracy": 12})
    await op.wait_for(
        "(ids) => ids.every((id) => window.sitcen.store.get('zone', id))", list(zones.values())
    )
    sent: list[str] = []
    op.page.on("request", lambda request: sent.append(request.url))
    await open_tab(op, "field")
    await op.page.tap("[data-action=locate]")
    await op.page.wait_for_selector(f'.field-around li[data-id="{zones["east"]}"]')
    rows = await op.js(
        "() => [...document.querySelectorAll('.field-around li')]"
        ".map((li) => [li.dataset.id, Number(li.dataset.distance),"
        " li.querySelector('.distance').textContent])"
    )
    ids = [r[0] for r in rows]
    assert ids[0] == zones["inside"] and rows[0][1] == 0 and rows[0][2] == "Vous êtes dedans"
    assert ids.index(zones["east"]) > 0
    east_row = rows[ids.index(zones["east"])]
    assert 300 < east_row[1] < 380 and east_row[2].endswith(" m")
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    assert "50.81800" in (await op.page.text_content(".field-coords") or "")
    assert "Forest" in (await op.page.text_content(".field-places") or "")
    # The marker is on the map, and the position went nowhere.
    assert await op.page.locator(".me-marker").count() == 1
    assert not [u for u in sent if "50.818" in u or "4.338" in u]
    await no_overflow(op, "field")
    await assert_accessible(op)
    await op.shot("mobile-05-phone-where-am-i")
    # A zone of the list opens in the detail.
    await op.page.tap(f'.field-around li[data-id="{zones["east"]}"] button')
    await op.page.wait_for_selector("#panel-detail:not([hidden])")
    assert f"Périmètre east {stamp}" in (await op.page.text_content("#panel-detail") or "")


async def test_a_quick_report_with_a_photo_reaches_the_watch_as_an_incident_to_confirm(
    agents: OpenAgent, server: Server
) -> None:
    stamp = time.monotonic_ns()
    watch = await agents("coord")
    officer = await agents("op", device=PHONE)
    here = {"longitude": 4.3572, "latitude": 50.8466, "accuracy": 8}
    await officer.context.grant_permissions(["geolocation"], origin=server.url)
    await officer.context.set_geolocation(here)
    page = officer.page
    await open_tab(officer, "field")
    # Nothing sent before a note and a position.
    await page.tap(".field-report button[type=submit]")
    assert "note" in (await page.text_content(".field-status") or "")
    await page.fill(".field-report textarea", f"Colis suspect sous un banc {stamp}")
    await page.tap(".field-report button[type=submit]")
    assert "Localisez" in (await page.text_content(".field-status") or "")
    await page.tap("[data-action=locate]")
    await officer.wait_for("() => document.querySelector('.field-places').textContent")
    # The note written before locating is kept.
    assert await page.input_value(".field-report textarea") == f"Colis suspect sous un banc {stamp}"
    await page.select_option(".field-report select[name=category]", "public_order")
    await page.set_input_files(
        ".field-report input[type=file]",
        files=[{"name": "banc.png", "mimeType": "image/png", "buffer": PNG}],
    )
    await page.wait_for_selector(".field-report img.preview")
    await page.tap(".field-report button[type=submit]")
    await officer.wait_for(
        "() => document.querySelector('.field-status').textContent.includes('INC')",
        within_ms=30_000,
    )
    await officer.shot("mobile-06-phone-report-sent")

    title = f"Colis suspect sous un banc {stamp}"
    find = """(title) => { for (const f of window.sitcen.store.all('incident'))
        if (f.properties.title === title) return f; return null; }"""
    incident: Any = await watch.wait_for(find, title)
    p = incident["properties"]
    assert p["status"] == "reported" and p["category"] == "public_order"
    assert p["created_by"] == "op"
    assert incident["geometry"]["coordinates"] == pytest.approx(
        [here["longitude"], here["latitude"]]
    )
    async with api(server, "coord") as client:
        r = await client.get("/api/documents", params={"subject_id": incident["id"]})
        assert r.status_code == 200, r.text
        docs = [f for f in r.json()["features"] if f["properties"]["subject_id"] == incident["id"]]
        assert len(docs) == 1, r.json()
        doc = docs[0]["properties"]
        assert doc["filename"] == "banc.png" and doc["created_by"] == "op"
        content = await client.get(f"/api/documents/{docs[0]['id']}/content")
        assert content.content == PNG


async def test_a_partners_report_reaches_the_watch_and_no_other_partner(
    agents: OpenAgent, server: Server
) -> None:
    stamp = time.monotonic_ns()
    spoc = await agents("part", device=PHONE)
    await spoc.context.grant_permissions(["geolocation"], origin=server.url)
    await spoc.context.set_geolocation({"longitude": 4.3517, "latitude": 50.8466, "accuracy": 15})
    page = spoc.page
    await open_tab(spoc, "field")
    # A partner reads no logbook: its report can only be an incident for the watch.
    kinds = await spoc.js(
        "() => [...document.querySelectorAll('.field-report select[name=kind] option')]"
        ".map((o) => o.value)"
    )
    assert kinds == ["incident"]
    await page.tap("[data-action=locate]")
    await spoc.wait_for("() => document.querySelector('.field-places').textContent")
    note = f"Foule dense à l'entrée du périmètre {stamp}"
    await page.fill(".field-report textarea", note)
    await page.set_input_files(
        ".field-report input[type=file]",
        files=[{"name": f"foule-{stamp}.png", "mimeType": "image/png", "buffer": PNG}],
    )
    await page.tap(".field-report button[type=submit]")
    await spoc.wait_for(
        "() => document.querySelector('.field-status').textContent.includes('INC')",
        within_ms=30_000,
    )
    await no_overflow(spoc, "report sent")
    async with api(server, "op") as watch, api(server, "part-b") as other:
        found = (await watch.get("/api/incidents", params={"q": str(stamp)})).json()["features"]
        assert len(found) == 1, found
        incident = found[0]
        p = incident["properties"]
        assert (p["status"], p["created_by"], p["shared_with"]) == (
            "reported",
            "part",
            ["pz-5339"],
        )
        docs = (await watch.get("/api/documents", params={"q": str(stamp)})).json()["features"]
        names = [
            d["properties"]["filename"]
            for d in docs
            if d["properties"]["subject_id"] == incident["id"]
        ]
        assert names == [f"foule-{stamp}.png"]
        assert (await other.get(f"/api/incidents/{incident['id']}")).status_code == 404
        listed = await other.get("/api/incidents", params={"q": str(stamp)})
        assert listed.json()["features"] == []


async def test_a_partner_acknowledges_an_alert_from_a_phone(
    agents: OpenAgent, server: Server
) -> None:
    stamp = time.monotonic_ns()
    spoc = await agents("part", device=PHONE)
    page = spoc.page
    headline = f"Fermeture du tunnel Louise — {stamp}"
    async with api(server, "op") as client:
        r = await client.post(
            "/api/alerts",
            json={
                "status": "Exercise",
                "severity": "Severe",
                "event": "Fermeture de tunnel",
                "texts": {"fr": {"headline": headline}, "nl": {"headline": f"Tunnel {stamp}"}},
                "organisations": ["pz-5339"],
            },
        )
        assert r.status_code == 201, r.text
        alert = r.json()["id"]
        await open_tab(spoc, "alerts")
        item = f'.inbox-item[data-alert="{alert}"]'
        await page.wait_for_selector(item)
        await no_overflow(spoc, "inbox")
        assert not await spoc.js(SMALL_TARGETS, f"{item} .ack-button")
        await assert_accessible(spoc)
        await page.tap(f"{item} .ack-button")
        await page.wait_for_selector(f"{item} .ack-done")
        await spoc.shot("mobile-07-phone-alert-acknowledged")
        state = (await client.get(f"/api/alerts/{alert}")).json()
        (row,) = [r for r in state["recipients"] if r["organisation"] == "pz-5339"]
        assert row["acknowledged_at"] and row["ack_via"] == "rest", row


@pytest.mark.parametrize("device", ["phone", "tablet"])
async def test_the_activation_boards_task_list_is_usable_on_a_touch_screen(
    agents: OpenAgent, server: Server, device: str
) -> None:
    stamp = time.monotonic_ns()
    async with api(server, "coord") as coord:
        activation, _ = await cell_with_a_partner_seat(
            coord, f"Fuite de gaz {stamp}", [4.3600, 50.8450]
        )
        task_body = {
            "type": "Feature",
            "geometry": None,
            "properties": {
                "title": f"Couper la rue Royale {stamp} " + "et la rue de la Loi " * 3,
                "activation_id": activation,
                "owner_organisation": "pz-5340",
                "priority": "urgent",
            },
        }
        r = await coord.post("/api/tasks", json=task_body)
        assert r.status_code == 201, r.text
        task = r.json()["id"]

        spoc = await agents("part-b", path=f"/#board/{activation}", device=DEVICES[device])
        page = spoc.page
        row = f'#board .board-task[data-id="{task}"]'
        await page.wait_for_selector(row)
        # The board covers the map below the bar, with nothing cut off sideways.
        box = await spoc.js(
            "() => { const r = document.querySelector('#board').getBoundingClientRect();"
            " return {left: r.left, width: r.width, innerWidth}; }"
        )
        assert box["left"] == 0 and box["width"] == box["innerWidth"]
        await no_overflow(spoc, "board")
        assert not await spoc.js(SMALL_TARGETS, f"{row} button, #board button.close")
        await assert_accessible(spoc)
        await spoc.shot(f"mobile-08-{device}-board")
        await page.tap(f'{row} button[data-status="done"]')
        await spoc.wait_for(
            f"(id) => ({TASK_STATUS})(id) === 'done'",
            task,
        )
        assert (await coord.get(f"/api/tasks/{task}")).json()["properties"]["status"] == "done"
        # Closed, the map is back.
        await page.tap("#board button.close")
        await page.wait_for_selector("#board", state="hidden")
        assert await page.is_visible("#map")
