"""The installable app (issue 21 part 2, docs/mobile.md): the service worker installs and controls
the page; a start without the network shows the session's last picture marked stale; back online
the stream resumes from where that picture stood (nothing missed, nothing doubled); logging out
forgets what the session kept."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.browser.conftest import READY_TIMEOUT_MS, Agent, api, incident_body, record
from tests.conftest import Server, eventually

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]

CONTROLLED = "() => navigator.serviceWorker.controller?.state === 'activated'"
# The session's kept picture holds what the store holds (offline.js saves it after changes).
KEPT = """async () => {
    const kept = await window.sitcen.lastPicture.load();
    return Boolean(kept) && kept.seq === window.sitcen.store.seq;
}"""
REFERENCE_CACHED = """async () => {
    if (!(await caches.has('sitcen-reference-v1'))) return 0;
    return (await (await caches.open('sitcen-reference-v1')).keys()).length;
}"""
# What the page can see of what this browser keeps: caches, IndexedDB records, the session key.
KEPT_IN_BROWSER = """async () => {
    const records = await new Promise((resolve, reject) => {
        const open = indexedDB.open('sitcen-offline');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
            const db = open.result;
            if (!db.objectStoreNames.contains('picture')) { db.close(); resolve(0); return; }
            const count = db.transaction('picture').objectStore('picture').count();
            count.onsuccess = () => { db.close(); resolve(count.result); };
            count.onerror = () => reject(count.error);
        };
    });
    const key = sessionStorage.getItem('sitcen.offline') !== null;
    return { caches: await caches.keys(), records, key };
}"""


async def until(agent: Agent, expression: str, what: str) -> Any:
    """The first truthy value of an async page expression (wait_for_function takes a promise
    for a truthy value at once)."""
    return await eventually(lambda: agent.js(expression), what, within=READY_TIMEOUT_MS / 1000)


async def controlled(agent: Agent) -> None:
    await agent.wait_for(CONTROLLED, within_ms=READY_TIMEOUT_MS)


async def test_manifest_and_service_worker_are_served_for_an_installable_app(
    server: Server,
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        page = (await client.get("/")).text
        assert '<link rel="manifest" href="/manifest.webmanifest">' in page
        r = await client.get("/manifest.webmanifest")
        assert r.headers["content-type"] == "application/manifest+json"
        assert r.headers["cache-control"] == "no-cache"
        manifest = json.loads(r.content)
        assert (manifest["display"], manifest["start_url"], manifest["scope"]) == (
            "standalone",
            "/",
            "/",
        )
        assert manifest["theme_color"] == "#0b0f14"
        sizes = {icon["sizes"] for icon in manifest["icons"]}
        assert {"192x192", "512x512"} <= sizes
        assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
        for icon in manifest["icons"]:
            got = await client.get("/" + icon["src"])
            assert got.status_code == 200, icon
            assert got.headers["content-type"] == icon["type"]
        sw = await client.get("/sw.js")
        assert sw.status_code == 200
        assert sw.headers["cache-control"] == "no-cache"
        assert "javascript" in sw.headers["content-type"]
        # The API's pages are not the dashboard's: no manifest there.
        assert (await client.get("/api/manifest.webmanifest")).status_code == 404


async def test_service_worker_installs_and_controls_the_page(agents: OpenAgent) -> None:
    agent = await agents("op")
    await controlled(agent)
    scope = await agent.js("async () => (await navigator.serviceWorker.getRegistration()).scope")
    assert scope == agent.server_url + "/"
    # The shell is precached, the reference layers kept once the worker controls the page.
    shell = await agent.js(
        """async () => {
            const name = (await caches.keys()).find((n) => n.startsWith('workbox-precache'));
            const requests = await (await caches.open(name)).keys();
            return requests.map((r) => new URL(r.url).pathname);
        }"""
    )
    assert "/index.html" in shell
    assert any(url.startswith("/assets/") and url.endswith(".js") for url in shell)
    assert await until(agent, REFERENCE_CACHED, "the reference layers cached") >= 4


async def incidents_written(client: httpx.AsyncClient, title: str) -> list[str]:
    """An incident created then updated, and a second one: three changes. Their ids."""
    r = await client.post("/api/incidents", json=incident_body(title, [4.3525, 50.8466]))
    r.raise_for_status()
    first = r.json()
    r = await client.patch(
        f"/api/incidents/{first['id']}",
        json={"type": "Feature", "properties": {"severity": "severe"}},
        headers={"If-Match": f'"{first["properties"]["version"]}"'},
    )
    r.raise_for_status()
    second = await client.post("/api/incidents", json=incident_body(title + " (2)", [4.36, 50.85]))
    second.raise_for_status()
    return [first["id"], second.json()["id"]]


async def test_offline_start_shows_the_last_picture_stale_then_catches_up_exactly(
    agents: OpenAgent, server: Server
) -> None:
    agent = await agents("op")
    page = agent.page
    await controlled(agent)
    await until(agent, REFERENCE_CACHED, "the reference layers cached")
    await until(agent, KEPT, "the picture kept")
    before = await agent.js(
        "() => ({ seq: window.sitcen.store.seq, incidents: window.sitcen.store.count('incident') })"
    )
    hellos: list[dict[str, Any]] = []

    def on_socket(ws: Any) -> None:
        def sent(payload: Any) -> None:
            message = json.loads(payload) if isinstance(payload, str) else {}
            if message.get("type") == "hello":
                hellos.append(message)

        ws.on("framesent", sent)

    page.on("websocket", on_socket)

    await agent.context.set_offline(True)
    started = time.perf_counter()
    await page.reload()
    await page.wait_for_selector("body[data-ready=true]", timeout=READY_TIMEOUT_MS)
    offline_start_s = time.perf_counter() - started
    banner = page.locator("#stale-banner")
    await banner.wait_for(state="visible")
    text = await banner.inner_text()
    kept_at = await agent.js("() => window.sitcen.staleAt")
    shown = await agent.js(
        """(at) => new Intl.DateTimeFormat('fr-BE', { timeZone: 'Europe/Brussels',
            hour: '2-digit', minute: '2-digit' }).format(new Date(at))""",
        kept_at,
    )
    assert "Hors ligne" in text and shown in text, text
    assert await agent.js("() => document.body.classList.contains('stale')")
    after_restart = await agent.js(
        "() => ({ seq: window.sitcen.store.seq, incidents: window.sitcen.store.count('incident') })"
    )
    assert after_restart == before
    # The map drew the kept picture and the cached reference layers.
    assert await agent.js("() => window.sitcen.mapView.derived.get('incident').size") > 0
    assert await agent.js("() => Boolean(window.sitcen.referenceLayers.municipality)")
    await agent.shot("pwa-offline-start-stale")

    # Written while the browser is offline: an incident created then updated, and another.
    title = f"Hors ligne — rue Neuve {time.monotonic_ns()}"
    async with api(server) as client:
        created = await incidents_written(client, title)
        written = (
            await client.get("/api/changes", params={"since": before["seq"], "limit": 1000})
        ).json()["changes"]
    ours = [c["seq"] for c in written if c.get("id") in created]
    assert len(ours) == 3

    # Still offline: no stream, none of them shown yet, the picture still marked stale.
    assert await agent.js("() => window.sitcen.connection?.status") != "live"
    assert not await agent.js(
        "(id) => Boolean(window.sitcen.store.get('incident', id))", created[1]
    )
    assert await banner.is_visible()

    await agent.context.set_offline(False)
    await agent.wait_for("() => window.sitcen.connection?.status === 'live'", within_ms=30_000)
    await banner.wait_for(state="hidden")
    await agent.wait_for(
        "([a, b]) => window.sitcen.store.get('incident', a)?.properties.severity === 'severe'"
        " && Boolean(window.sitcen.store.get('incident', b))",
        created,
    )
    # The stream resumed from the kept picture's position: no snapshot read again.
    resumed = [h for h in hellos if h.get("since") is not None]
    assert resumed and resumed[-1]["since"] >= before["seq"]
    assert all(h["since"] >= before["seq"] for h in resumed)
    feed = await agent.js("() => window.sitcen.store.feed.map((e) => e.seq)")
    assert len(feed) == len(set(feed)), "a change is doubled in the feed"
    assert [s for s in feed if s in ours] == ours, "a change written offline is missing"
    counts = await agent.js(
        '(ids) => ids.map((id) => document.querySelectorAll(`.feed-item[data-id="${id}"]`).length)',
        created,
    )
    assert counts[0] >= 1 and counts[1] == 1, counts
    record("pwa_offline_start", {"offline_start_s": round(offline_start_s, 3)})


async def test_logout_clears_the_partners_kept_data(agents: OpenAgent) -> None:
    agent = await agents("part")
    await controlled(agent)
    await until(agent, KEPT, "the picture kept")
    # A cache of scoped answers (none is written today: the logout must drop any such cache).
    await agent.js(
        """async () => (await caches.open('sitcen-scoped-probe')).put('/api/alerts?probe=1',
            new Response('{"partner": "pz-5339"}'))"""
    )
    held = await agent.js(KEPT_IN_BROWSER)
    assert held["records"] == 1 and held["key"]
    assert "sitcen-scoped-probe" in held["caches"]

    await agent.page.click("#logout")
    await agent.page.wait_for_selector("#login-form")
    left = await eventually(
        lambda: _cleared(agent), "the kept picture and scoped caches to be forgotten"
    )
    assert left["records"] == 0 and not left["key"]
    assert all(
        name.startswith("workbox-precache") or name == "sitcen-reference-v1"
        for name in left["caches"]
    ), left["caches"]

    # Without the network the app still opens (the shell), on the login page: nothing to show.
    await agent.context.set_offline(True)
    await agent.page.reload()
    await agent.page.wait_for_selector("#login-form")
    assert await agent.js("() => document.querySelector('#stale-banner') === null")
    await agent.context.set_offline(False)


async def _cleared(agent: Agent) -> dict[str, Any] | None:
    left = await agent.js(KEPT_IN_BROWSER)
    return left if left["records"] == 0 and "sitcen-scoped-probe" not in left["caches"] else None
