"""Rules evaluated from the change feed, against the real server: what raises an alert, what
raises an Update or a Cancel, and nothing missed or doubled while evaluation is down."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.settings import AlertSettings
from app.alerts.workers.evaluator import EVALUATOR_LOCK, Evaluator
from app.settings import Settings, plain_url
from tests.alerts.conftest import alerts_of, caught_up, incident, place, square
from tests.conftest import eventually

Sessions = async_sessionmaker[AsyncSession]


async def test_severe_incident_inside_alerts_others_do_not(
    make_partner: Any, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    partner = await make_partner()
    lon, lat = place()
    await partner.subscribe(area_kind="polygon", polygon=square(lon, lat), min_severity="severe")
    outside = incident(lon + 0.01, lat, title="outside")
    minor = incident(lon, lat, title="minor", severity="minor")
    internal = incident(lon, lat, title="internal", visibility="internal")
    inside = incident(lon, lat, title="inside")
    for body in (outside, minor, internal, inside):
        assert (await client.post("/api/incidents", json=body)).status_code == 201
    await caught_up(sessions)
    alerts = await alerts_of(client, partner.code)
    assert [a["texts"]["en"]["headline"].split(" — ")[:2] for a in alerts] == [
        ["Fire (severe)", "inside"]
    ]


async def test_one_alert_per_object_until_it_changes_materially(
    make_partner: Any, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    partner = await make_partner()
    lon, lat = place()
    await partner.subscribe(area_kind="polygon", polygon=square(lon, lat))
    created = (await client.post("/api/incidents", json=incident(lon, lat))).json()
    url = f"/api/incidents/{created['id']}"

    async def patch(version: int, **props: Any) -> None:
        r = await client.patch(
            url,
            headers={"If-Match": f'"{version}"'},
            json={"type": "Feature", "properties": props},
        )
        assert r.status_code == 200, r.text

    await patch(1, title="Incendie rue Haute, 3e étage")  # not material: no alert
    await patch(2, severity="extreme")  # material: Update
    await patch(3, status="false_alarm")  # ends it: Cancel
    await caught_up(sessions)
    alerts = list(reversed(await alerts_of(client, partner.code)))
    assert [a["msg_type"] for a in alerts] == ["Alert", "Update", "Cancel"]
    assert alerts[1]["references"] == alerts[0]["id"]
    assert alerts[2]["references"] == alerts[1]["id"]
    assert alerts[1]["severity"] == "Extreme"


async def test_incident_inside_an_active_security_perimeter(
    make_partner: Any, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    partner = await make_partner()
    lon, lat = place()
    zone = {
        "type": "Feature",
        "geometry": square(lon, lat, 0.0008),
        "properties": {
            "title": "Périmètre test",
            "kind": "security_perimeter",
            "visibility": "shared",  # a partner's rules see only the zones it may see
        },
    }
    assert (await client.post("/api/zones", json=zone)).status_code == 201
    await partner.subscribe(area_kind="zone_kinds", zone_kinds=["security_perimeter"])
    await client.post("/api/incidents", json=incident(lon + 0.002, lat, title="just outside"))
    await client.post("/api/incidents", json=incident(lon, lat, title="inside the perimeter"))
    await caught_up(sessions)
    (alert,) = await alerts_of(client, partner.code)
    assert "inside the perimeter" in alert["texts"]["fr"]["headline"]


async def test_zone_of_a_planned_event_in_the_area_changed(
    make_partner: Any, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    partner = await make_partner()
    lon, lat = place()
    await partner.subscribe(
        entities=["zone"],
        parent_entities=["planned_event"],
        area_kind="polygon",
        polygon=square(lon, lat, 0.003),
    )
    event = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "title": "Concert test",
            "kind": "festival",
            "starts_at": "2026-09-26T10:00:00+02:00",
            "ends_at": "2026-09-26T23:00:00+02:00",
        },
    }
    event_id = (await client.post("/api/events", json=event)).json()["id"]
    zone = {
        "type": "Feature",
        "geometry": square(lon, lat, 0.0005),
        "properties": {
            "title": "Zone rouge du concert",
            "kind": "red_zone",
            "visibility": "shared",
            "parent_entity": "planned_event",
            "parent_id": event_id,
        },
    }
    created = (await client.post("/api/zones", json=zone)).json()
    moved = {"type": "Feature", "geometry": square(lon + 0.001, lat, 0.0005), "properties": {}}
    r = await client.patch(f"/api/zones/{created['id']}", headers={"If-Match": '"1"'}, json=moved)
    assert r.status_code == 200, r.text
    await caught_up(sessions)
    alerts = list(reversed(await alerts_of(client, partner.code)))
    assert [(a["entity"], a["msg_type"]) for a in alerts] == [("zone", "Alert"), ("zone", "Update")]


async def test_changes_written_while_evaluation_is_down_are_alerted_once_after(
    make_partner: Any, client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    """Holding the evaluator's lock stands for every instance being down: the writes go on,
    nothing is evaluated; once it is released, each change is alerted exactly once."""
    partner = await make_partner()
    lon, lat = place()
    await partner.subscribe(area_kind="polygon", polygon=square(lon, lat))
    outage = await asyncpg.connect(plain_url(settings.database_url or ""))
    try:
        await outage.execute("SELECT pg_advisory_lock($1)", EVALUATOR_LOCK)
        for i in range(5):
            body = incident(lon, lat, title=f"during the outage {i}")
            assert (await client.post("/api/incidents", json=body)).status_code == 201
        assert await alerts_of(client, partner.code) == []
    finally:
        await outage.execute("SELECT pg_advisory_unlock($1)", EVALUATOR_LOCK)
        await outage.close()
    await caught_up(sessions)
    alerts = await alerts_of(client, partner.code)
    titles = sorted(a["texts"]["fr"]["headline"].split(" — ")[1] for a in alerts)
    assert titles == [f"during the outage {i}" for i in range(5)]


async def test_a_stream_of_changes_is_evaluated_in_batches_a_lone_change_at_once(
    sessions: Sessions,
) -> None:
    """Wake-ups closer together than the interval share one step; the first after a quiet
    moment runs at once."""
    steps: list[float] = []

    class Counting(Evaluator):
        async def step(self) -> bool:
            steps.append(asyncio.get_running_loop().time())
            return False

    settings = AlertSettings(evaluate_interval_seconds=0.5, poll_seconds=60)
    evaluator = Counting(sessions, settings, lambda: datetime.now(UTC))
    runner = asyncio.create_task(evaluator.run())
    try:
        evaluator.wake.set()
        await eventually(lambda: len(steps) == 1, "the first step")
        loop = asyncio.get_running_loop()
        for _ in range(20):  # a burst inside one interval, however slow the machine
            evaluator.wake.set()
            await asyncio.sleep(0.005)
            if loop.time() - steps[0] > 0.3:
                break
        await eventually(lambda: len(steps) == 2, "the burst's one step")
        await asyncio.sleep(0.6)
        assert len(steps) == 2  # the burst was taken in one step, not twenty
        assert steps[1] - steps[0] >= 0.45  # it waited out the interval (less the loop's tick)
    finally:
        runner.cancel()
