"""Above the tile threshold the dashboard draws a collection from the server's vector tiles,
and the operator sees no difference: same layers, same legend counts, the same click-through,
and a change drawn the moment it arrives, before its tiles are read again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime

import pytest

from app.settings import Settings
from tests.browser.conftest import Agent, api, incident_body
from tests.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]
# Outside the demo's places: only this test draws there.
SPOT = [4.2712, 50.8161]
# Where the replay's incident stood, then where it was moved to.
BEFORE, AFTER = [4.2655, 50.8205], [4.2760, 50.8230]
# The tiled layer's features at a place, as MapLibre drew them: [oid, sev] of each.
DRAWN = """([layer, lng, lat]) => {
    const map = window.sitcen.mapView.map;
    const p = map.project([lng, lat]);
    const box = [[p.x - 6, p.y - 6], [p.x + 6, p.y + 6]];
    if (!map.getLayer(layer)) return [];
    const found = map.queryRenderedFeatures(box, { layers: [layer] });
    return found.map(f => [f.properties.oid, f.properties.sev]);
}"""

# The dashboard reads a changed collection's tiles again shortly after the change: held back,
# then let go (the held timer's no-op ran meanwhile, so the refresh is scheduled anew).
HOLD_REFRESH = """() => {
    const view = window.sitcen.mapView;
    view._heldRefresh = view._refreshTiles;
    view._refreshTiles = async () => {};
}"""
RELEASE_REFRESH = """() => {
    const view = window.sitcen.mapView;
    view._refreshTiles = view._heldRefresh;
    view._scheduleRefresh('incident');
}"""


@pytest.fixture(scope="module")
def tiled(settings: Settings) -> Iterator[Server]:
    """A server whose dashboard tiles every collection of more than 3 objects."""
    srv = start_server(
        settings, extra_env={"SITCEN_TILE_THRESHOLD": "3"}, name="browser-tiles", timeout=180
    )
    yield srv
    stop_server(srv)


async def test_a_big_collection_is_drawn_from_tiles_and_a_change_reaches_it_live(
    agents: OpenAgent, tiled: Server
) -> None:
    async with api(tiled) as writer:
        first = await writer.post("/api/incidents", json=incident_body("Fuite de gaz", SPOT))
        assert first.status_code == 201, first.text
        made = first.json()
        # The real picture, as the dashboard reads it (exercise objects are not in it).
        real = await writer.get("/api/picture", params={"exercise": "false"})
        picture = real.json()["collections"]
    assert picture["incident"]["tiled"] is True

    agent = await agents("op", tiled)
    view = "window.sitcen.mapView"
    assert await agent.js(f"() => {view}.isTiled('incident')")
    assert await agent.js(f"() => Boolean({view}.map.getSource('tiles-incident'))")
    assert await agent.js(f"() => Boolean({view}.map.getLayer('incident-point-tiles'))")
    # Nothing changed since the tiles were read: the GeoJSON source holds no incident.
    assert await agent.js(f"() => {view}._collection('incident').features.length") == 0
    # The legend counts what the picture holds, not what the tiles drew.
    counts = await agent.js(f"() => {view}.counts().incident.total")
    assert (
        counts
        == picture["incident"]["count"]
        == await agent.js("() => window.sitcen.store.count('incident')")
    )

    await agent.js(f"([lng, lat]) => {view}.map.jumpTo({{ center: [lng, lat], zoom: 17 }})", SPOT)
    await agent.wait_for(
        f"([layer, id, lng, lat]) => ({DRAWN})([layer, lng, lat]).some(([oid]) => oid === id)",
        ["incident-point-tiles", made["id"], *SPOT],
    )

    await agent.js(HOLD_REFRESH)
    # A change: drawn from the overlay at once, the tile's stale feature hidden by its id...
    async with api(tiled) as writer:
        started = time.perf_counter()
        r = await writer.patch(
            f"/api/incidents/{made['id']}",
            json={"type": "Feature", "properties": {"severity": "extreme"}},
            headers={"If-Match": '"1"'},
        )
        assert r.status_code == 200, r.text
    await agent.wait_for(
        "(id) => window.sitcen.mapView.overlay.get('incident').has(id)"
        " || window.sitcen.store.get('incident', id).properties.severity === 'extreme'",
        made["id"],
    )
    # The overlay draws the change in one worker pass and the twin's new filter in another (a
    # filter change lays the tiles in view out again): the stale feature goes once that pass is
    # done. The tiles' refresh is held back meanwhile, or it would hide it by other means.
    await agent.wait_for(
        f"([id, lng, lat]) => {view}.overlay.get('incident').has(id)"
        f" && ({DRAWN})(['incident-point', lng, lat]).some(([oid, sev]) => oid === id && sev === 3)"
        f" && !({DRAWN})(['incident-point-tiles', lng, lat]).some(([oid, sev]) => oid === id && sev === 1)",  # noqa: E501
        [made["id"], *SPOT],
    )
    drawn_s = time.perf_counter() - started
    # ...then, its tiles read again, drawn from them and let go of by the overlay.
    await agent.js(RELEASE_REFRESH)
    await agent.wait_for(
        f"([id, lng, lat]) => !{view}.overlay.get('incident').has(id)"
        f" && ({DRAWN})(['incident-point-tiles', lng, lat]).some(([oid, sev]) => oid === id && sev === 3)",  # noqa: E501
        [made["id"], *SPOT],
    )
    print(f"\nchange drawn on the tiled layer {drawn_s:.3f} s after the PATCH was sent")

    # The click-through opens the detail, read whole (the first load held it compact).
    await agent.settled()
    point = await agent.js(f"([lng, lat]) => {view}.map.project([lng, lat])", SPOT)
    box = await agent.page.locator("#map canvas").bounding_box()
    await agent.page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    await agent.wait_for(
        "(id) => window.sitcen.panels.detail.current?.id === id"
        " && !window.sitcen.store.get('incident', id)._compact",
        made["id"],
    )
    await agent.shot("tiles-detail")


async def test_the_same_picture_below_the_threshold_stays_geojson(agents: OpenAgent) -> None:
    agent = await agents("op")
    assert not await agent.js("() => window.sitcen.mapView.isTiled('incident')")
    assert await agent.js("() => window.sitcen.mapView._collection('incident').features.length") > 0


async def test_a_replay_draws_the_past_of_a_tiled_collection_and_live_draws_the_tiles_again(
    agents: OpenAgent, tiled: Server
) -> None:
    async with api(tiled) as writer, api(tiled, "coord") as coord:
        r = await writer.post("/api/incidents", json=incident_body("Incendie passé", BEFORE))
        assert r.status_code == 201, r.text
        made = r.json()
        # An instant after its first version was committed (answered), before what follows.
        then = datetime.now(UTC)
        at = int(then.timestamp() * 1000)
        await asyncio.sleep(0.05)
        r = await writer.patch(
            f"/api/incidents/{made['id']}",
            json={
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": AFTER},
                "properties": {"severity": "extreme"},
            },
            headers={"If-Match": '"1"'},
        )
        assert r.status_code == 200, r.text
        stood = (await coord.get("/api/threat-level", params={"at": then.isoformat()})).json()
        past_level = stood["general"]["level"] if stood["general"] else None
        level = 2 if past_level != 2 else 3
        r = await coord.post(
            "/api/threat-level",
            json={"level": level, "reason": "Réévaluation", "source_reference": "OCAM/2026/R1"},
        )
        assert r.status_code == 201, r.text

    agent = await agents("op", tiled)
    view = "window.sitcen.mapView"
    oid = made["id"]
    assert await agent.js(f"() => {view}.isTiled('incident')")
    await agent.page.wait_for_selector(f'#threat[data-level="{level}"][data-past="false"]')

    # The past: the incident where and as it stood, drawn from the replayed store, no tiles.
    await agent.js("(at) => window.sitcen.replayTo(at)", at)
    await agent.wait_for(
        f"(id) => !{view}.isTiled('incident') && !{view}.map.getSource('tiles-incident')"
        f" && !{view}.map.getLayer('incident-point-tiles')"
        " && window.sitcen.store.get('incident', id)?.properties.severity === 'moderate'",
        oid,
    )
    held = await agent.js(
        f"(id) => {view}._collection('incident').features.find(f => f.id === id)", oid
    )
    assert held is not None and held["geometry"]["coordinates"] == BEFORE
    await agent.js(f"([lng, lat]) => {view}.map.jumpTo({{ center: [lng, lat], zoom: 17 }})", BEFORE)
    await agent.wait_for(
        f"([id, lng, lat]) => ({DRAWN})(['incident-point', lng, lat]).some(([o]) => o === id)",
        [oid, *BEFORE],
    )
    shown = str(past_level) if past_level is not None else ""
    await agent.page.wait_for_selector(f'#threat[data-level="{shown}"][data-past="true"]')
    await agent.shot("tiles-replay-past")

    # Back to live: the tiles again, the incident where it stands now.
    await agent.page.click("#replay-live")
    await agent.wait_for(
        f"(id) => {view}.isTiled('incident') && Boolean({view}.map.getSource('tiles-incident'))"
        f" && Boolean({view}.map.getLayer('incident-point-tiles'))"
        " && window.sitcen.store.get('incident', id)?.properties.severity === 'extreme'",
        oid,
    )
    await agent.page.wait_for_selector(f'#threat[data-level="{level}"][data-past="false"]')
    await agent.js(f"([lng, lat]) => {view}.map.jumpTo({{ center: [lng, lat], zoom: 17 }})", AFTER)
    await agent.wait_for(
        f"([id, lng, lat]) => ({DRAWN})(['incident-point-tiles', lng, lat]).some(([o]) => o === id)"
        f" || ({DRAWN})(['incident-point', lng, lat]).some(([o]) => o === id)",
        [oid, *AFTER],
        within_ms=30_000,
    )


async def test_the_tiles_hold_the_picture_shown_real_or_exercise(
    agents: OpenAgent, tiled: Server
) -> None:
    agent = await agents("op", tiled)
    view = "window.sitcen.mapView"
    tiles = f"() => {view}.map.getSource('tiles-incident')?.tiles?.[0] ?? ''"
    assert await agent.js(f"() => {view}.isTiled('incident')")
    assert (await agent.js(tiles)).endswith("?exercise=false")
    await agent.page.check("#exercise-picture")
    await agent.wait_for(f"() => ({tiles})().endsWith('?exercise=true')")
    await agent.page.uncheck("#exercise-picture")
    await agent.wait_for(f"() => ({tiles})().endsWith('?exercise=false')")
