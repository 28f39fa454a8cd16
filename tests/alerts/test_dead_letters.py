"""No background loop dies silently: an item that raises something other than a database error
is tried again, then set aside as a dead letter with its error, and the loop goes on; the
failure shows in /api/alerts/health and /api/metrics."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.settings import AlertSettings
from app.alerts.workers.delivery import DeliveryWorker
from app.alerts.workers.escalation import EscalationWorker
from app.settings import Settings, plain_url
from tests.alerts.conftest import alerts_of, incident, place, square
from tests.conftest import eventually

Sessions = async_sessionmaker[AsyncSession]


async def _append_change(settings: Settings, entity_id: uuid.UUID, op: str, feature: Any) -> int:
    """A change record written straight into the feed, around the write path: what a bug or a
    hand-made repair could leave there. The trigger numbers it at commit, as any other."""
    connection = await asyncpg.connect(plain_url(settings.database_url or ""))
    try:
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO changes (entity, entity_id, op, version, actor, at, feature)"
                " VALUES ('incident', $1, $2, 1, 'tests', clock_timestamp(), $3::jsonb)",
                entity_id,
                op,
                orjson.dumps(feature).decode(),
            )
        return int(
            await connection.fetchval(
                "SELECT seq FROM changes WHERE entity_id = $1 AND op = $2", entity_id, op
            )
        )
    finally:
        await connection.close()


def _poisoned(entity_id: uuid.UUID) -> dict[str, Any]:
    """An incident whose status is a list: the rules cannot tell whether it has ended."""
    return {
        "type": "Feature",
        "id": str(entity_id),
        "geometry": None,
        "properties": {
            "entity": "incident",
            "title": "poisoned",
            "category": "fire",
            "severity": "severe",
            "status": ["ongoing"],
            "visibility": "internal",
        },
    }


async def _scrape(admin: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = await admin.get("/api/metrics")
    assert r.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(r.text)
        for s in f.samples
    }


async def test_a_change_the_rules_fail_on_is_set_aside_and_the_evaluator_goes_on(
    make_partner: Any, client_for: Any, settings: Settings
) -> None:
    partner = await make_partner()
    lon, lat = place()
    await partner.subscribe(area_kind="polygon", polygon=square(lon, lat))
    ghost = uuid.uuid4()
    seq = await _append_change(settings, ghost, "updated", _poisoned(ghost))

    # A good change after the poisoned one is still alerted: the evaluator did not stop.
    coord = client_for("coord")
    body = incident(lon, lat, title="after the poisoned change")
    assert (await coord.post("/api/incidents", json=body)).status_code == 201
    (alert,) = await eventually(lambda: alerts_of(coord, partner.code), "the next alert")
    assert "after the poisoned change" in alert["texts"]["fr"]["headline"]

    # SITCEN sees what was set aside, and why.
    health = (await coord.get("/api/alerts/health")).json()
    # The procedures' starter reads the same change, and sets it aside too (its own letter).
    (dead,) = [
        d
        for d in health["dead_letters"]["latest"]
        if d["item"] == f"change {seq}" and d["worker"] == "alerts-evaluate"
    ]
    assert dead["attempts"] == 3
    assert dead["error"].startswith("TypeError: unhashable type: 'list'")
    evaluator = health["loops"]["alerts-evaluate"]
    assert evaluator["running"] is True and evaluator["errors"]["unexpected"] >= 3
    assert health["workers"]["workers"]["alerts-evaluate"] is True

    metrics = await _scrape(client_for("adm"))
    worker = (("worker", "alerts-evaluate"),)
    assert metrics[("sitcen_worker_dead_letters_total", worker)] >= 1
    assert metrics[("sitcen_worker_errors_total", (("cause", "unexpected"), *worker))] >= 3
    assert metrics[("sitcen_worker_up", worker)] == 1

    # A partner reads its own alerts' health, never what failed inside SITCEN.
    spoc = await partner.user()
    seen = (await spoc.get("/api/alerts/health")).json()
    assert "dead_letters" not in seen and "loops" not in seen

    # The ghost leaves the picture again, for the time-travel readers of later tests.
    await _append_change(settings, ghost, "deleted", _poisoned(ghost) | {"properties": {}})


class FailingOnce:
    """A clock that fails the first time it is read, as a bug of ours in a step would; after
    that a time long past, so that nothing in the shared database falls due for the worker."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> datetime:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("a fault nobody expected")
        return datetime(2000, 1, 1, tzinfo=UTC)


async def _survives(loop: Any, what: str) -> None:
    loop.start()
    try:
        await eventually(lambda: loop.stats.unexpected == 1, f"the {what} loop's failure")
        steps = loop.stats.steps
        loop.wake.set()
        await eventually(lambda: loop.stats.steps > steps, f"the {what} loop's next step")
        assert loop.stats.running
        assert loop.stats.last_error == "RuntimeError: a fault nobody expected"
    finally:
        await loop.stop()


async def test_delivery_loop_survives_an_exception_that_is_not_a_database_error(
    sessions: Sessions, settings: Settings
) -> None:
    worker = DeliveryWorker(
        sessions, AlertSettings(poll_seconds=60), settings.secret_key, FailingOnce()
    )
    try:
        await _survives(worker.loop, "delivery")
    finally:
        await worker.close()


async def test_escalation_loop_survives_an_exception_that_is_not_a_database_error(
    sessions: Sessions,
) -> None:
    clock: Callable[[], datetime] = FailingOnce()
    worker = EscalationWorker(sessions, AlertSettings(escalation_poll_seconds=60), clock)
    await _survives(worker.loop, "escalation")
