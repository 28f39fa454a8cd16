"""Lists: keyset pages with a `next` link, bbox, time window, status, kind and text filters."""

from __future__ import annotations

import uuid

import httpx

from tests.samples import feature, point, square


async def test_pages_follow_next_links_without_repeats_or_gaps(client: httpx.AsyncClient) -> None:
    tag = f"page-{uuid.uuid4().hex[:8]}"
    created = []
    for i in range(7):
        body = feature(point(4.35, 50.84), title=f"{tag} {i}", category="traffic", severity="minor")
        created.append((await client.post("/api/incidents", json=body)).json()["id"])
    seen: list[str] = []
    url: str | None = "/api/incidents"
    params: dict[str, str] | None = {"q": tag, "limit": "3"}
    pages = 0
    while url:
        page = (await client.get(url, params=params)).json()
        pages += 1
        seen += [f["id"] for f in page["features"]]
        assert page["numberReturned"] == len(page["features"])
        nxt = [link for link in page["links"] if link["rel"] == "next"]
        url, params = (nxt[0]["href"], None) if nxt else (None, None)
    assert pages == 3
    assert seen == list(reversed(created)), "newest first, each exactly once"


async def test_bbox_keeps_what_intersects_it(client: httpx.AsyncClient) -> None:
    tag = f"bbox-{uuid.uuid4().hex[:8]}"
    inside = await client.post(
        "/api/zones", json=feature(square(4.3622, 50.8417, 0.003), title=tag, kind="red_zone")
    )
    outside = await client.post(
        "/api/zones", json=feature(square(4.40, 50.80, 0.001), title=tag, kind="red_zone")
    )
    ids = [
        f["id"]
        for f in (
            await client.get(
                "/api/zones", params={"bbox": "4.3600,50.8400,4.3610,50.8410", "q": tag}
            )
        ).json()["features"]
    ]
    assert ids == [inside.json()["id"]]
    assert outside.json()["id"] not in ids


async def test_bbox_in_lambert72(client: httpx.AsyncClient) -> None:
    tag = f"bboxl-{uuid.uuid4().hex[:8]}"
    oid = (
        await client.post(
            "/api/incidents",
            json=feature(point(4.3525, 50.8467), title=tag, category="other", severity="minor"),
        )
    ).json()["id"]
    ids = [
        f["id"]
        for f in (
            await client.get(
                "/api/incidents",
                params={"bbox": "148000,170000,150000,171500", "bbox-crs": "EPSG:31370", "q": tag},
            )
        ).json()["features"]
    ]
    assert ids == [oid]


async def test_time_window_selects_overlapping_events(client: httpx.AsyncClient) -> None:
    tag = f"win-{uuid.uuid4().hex[:8]}"

    async def event(start: str, end: str) -> str:
        r = await client.post(
            "/api/events",
            json=feature(
                point(4.334, 50.8957), title=tag, kind="festival", starts_at=start, ends_at=end
            ),
        )
        return str(r.json()["id"])

    morning = await event("2026-07-21T08:00:00+02:00", "2026-07-21T12:00:00+02:00")
    evening = await event("2026-07-21T18:00:00+02:00", "2026-07-21T23:00:00+02:00")
    ids = [
        f["id"]
        for f in (
            await client.get(
                "/api/events",
                params={
                    "q": tag,
                    "start": "2026-07-21T11:00:00+02:00",
                    "end": "2026-07-21T13:00:00+02:00",
                },
            )
        ).json()["features"]
    ]
    assert ids == [morning]
    ids = [
        f["id"]
        for f in (
            await client.get("/api/events", params={"q": tag, "start": "2026-07-21T00:00:00+02:00"})
        ).json()["features"]
    ]
    assert set(ids) == {morning, evening}


async def test_standing_zones_are_in_every_window(client: httpx.AsyncClient) -> None:
    tag = f"hot-{uuid.uuid4().hex[:8]}"
    oid = (
        await client.post(
            "/api/zones", json=feature(square(4.3365, 50.8357, 0.001), title=tag, kind="hotspot")
        )
    ).json()["id"]
    ids = [
        f["id"]
        for f in (
            await client.get(
                "/api/zones",
                params={"q": tag, "start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z"},
            )
        ).json()["features"]
    ]
    assert ids == [oid]


async def test_status_category_and_text_filters(client: httpx.AsyncClient) -> None:
    tag = f"flt-{uuid.uuid4().hex[:8]}"
    fire = (
        await client.post(
            "/api/incidents",
            json=feature(
                point(4.35, 50.84), title=f"{tag} feu", category="fire", severity="severe"
            ),
        )
    ).json()["id"]
    flood = (
        await client.post(
            "/api/incidents",
            json=feature(
                point(4.35, 50.84),
                title=f"{tag} eau",
                category="flooding_storm",
                severity="minor",
                status="confirmed",
            ),
        )
    ).json()["id"]

    async def ids(**params: str) -> list[str]:
        return [
            f["id"]
            for f in (await client.get("/api/incidents", params={"q": tag, **params})).json()[
                "features"
            ]
        ]

    assert await ids(category="fire") == [fire]
    assert await ids(status="confirmed") == [flood]
    assert set(await ids(category="fire,flooding_storm")) == {fire, flood}
    assert await ids(q=f"{tag} EAU") == [flood]


async def test_list_carries_the_feed_head_for_live_resume(client: httpx.AsyncClient) -> None:
    page = (await client.get("/api/incidents", params={"limit": 1})).json()
    changes = (await client.get("/api/changes", params={"limit": 1})).json()
    assert page["head"] <= changes["head"]
