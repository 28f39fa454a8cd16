"""Scenarios for the exercise tests, built as data (each with a key of its own), and running
them with a clock the test moves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.settings import AlertSettings
from app.domain.actor import Actor
from app.exercises import runner, service
from app.exercises import scenario as fmt
from app.exercises.models import ExerciseRun, ExerciseScenario

CONTROLLER = Actor("coord", "user", role="coordinator")
BOURSE = [4.3499, 50.8481]
# Far ahead of the real clock: the session's server, which plays running runs on the real
# clock, finds no inject due in these runs, so that only the test's clock moves them.
FUTURE = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


def incident_inject(at: str, key: str, **props: Any) -> dict[str, Any]:
    return {
        "at": at,
        "create": {
            "key": key,
            "entity": "incident",
            "geometry": {"type": "Point", "coordinates": BOURSE},
            "properties": {
                "title": f"Fuite de gaz / Gaslek {key}",
                "category": "utility_outage",
                "severity": "severe",
                **props,
            },
        },
    }


def message_inject(at: str, to: list[str], about: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "to": to,
        "severity": "Severe",
        "headline": {"fr": "Coupure de gaz", "nl": "Gasonderbreking"},
        "description": {"fr": "Quartier sans gaz.", "nl": "Wijk zonder gas."},
    }
    if about:
        message["about"] = about
    return {"at": at, "message": message}


def scenario(*injects: dict[str, Any], players: list[str] | None = None) -> dict[str, Any]:
    return {
        "format": "sitcen-exercise/1",
        "key": f"test-{uuid.uuid4().hex[:10]}",
        "title": {"fr": "Exercice de test", "nl": "Testoefening"},
        "players": players or [],
        "injects": list(injects),
    }


def timed(players: list[str] | None = None) -> dict[str, Any]:
    """Four injects over an hour: a create at 0:01, its update at 0:30, a message at 0:31, a
    call at 1:00."""
    return scenario(
        incident_inject("0:01", "leak", shared_with=players or []),
        {"at": "0:30", "update": {"object": "leak", "properties": {"status": "confirmed"}}},
        message_inject("0:31", players or ["pz-5339"], about="leak"),
        {
            "at": "1:00",
            "call": {
                "caller": "Sibelga",
                "callee": "SITCEN",
                "note": {"fr": "Appeler le SITCEN", "nl": "SITCEN bellen"},
                "about": "leak",
            },
        },
        players=players or ["pz-5339"],
    )


async def keep(
    sessions: async_sessionmaker[AsyncSession], data: dict[str, Any]
) -> ExerciseScenario:
    async with sessions() as session, session.begin():
        checked = await fmt.check(session, fmt.parse(data))
        row = await service.store(session, checked, CONTROLLER, FUTURE)
    return row


async def start(
    sessions: async_sessionmaker[AsyncSession],
    row: ExerciseScenario,
    at: datetime = FUTURE,
    speed: float = 1.0,
) -> ExerciseRun:
    async with sessions() as session, session.begin():
        run = await service.start(session, row.id, service.RunStart(speed=speed), CONTROLLER, at)
    return run


async def control(
    sessions: async_sessionmaker[AsyncSession],
    run: ExerciseRun,
    at: datetime,
    action: str,
    speed: float | None = None,
) -> None:
    async with sessions() as session, session.begin():
        body = service.RunControl(action=action, speed=speed)  # type: ignore[arg-type]
        await service.control(session, run.id, body, CONTROLLER, at)


async def play(
    sessions: async_sessionmaker[AsyncSession], run: ExerciseRun, at: datetime
) -> tuple[list[runner.Played], float | None]:
    """The test's run played at `at` (and no other test's). The session's server plays running
    runs too, on the real clock (which finds nothing due in these): its lock is waited for, not
    skipped, so that what this play finds does not depend on that server's timing."""
    return await runner.play_due(sessions, AlertSettings(), at, only={run.id}, skip_locked=False)


async def state(
    sessions: async_sessionmaker[AsyncSession], run: ExerciseRun, at: datetime
) -> dict[str, Any]:
    async with sessions() as session:
        fresh = await service.get_run(session, run.id)
        return await service.run_json(session, fresh, at)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
