"""Playing a run with a clock the test moves: each inject at its time, flagged as exercise,
kept out of the real picture; pause, resume and speed; each inject once, even with two players
racing and after a restart; messages with CAP status Exercise."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert, Recipient
from app.domain import objects
from app.domain.incident import SPEC as INCIDENTS
from app.domain.incident import Incident
from app.exercises.models import ExercisePlay
from app.exercises.runner import SOURCE
from tests.exercises.helpers import (
    FUTURE,
    control,
    keep,
    minutes,
    play,
    start,
    state,
    timed,
)


async def _incidents(
    sessions: async_sessionmaker[AsyncSession], run_id: uuid.UUID
) -> list[Incident]:
    async with sessions() as session:
        query = select(Incident).where(Incident.external_id.startswith(f"{run_id}:"))
        return list((await session.scalars(query)).all())


async def test_injects_arrive_at_their_times_flagged_as_exercise(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    run = await start(sessions, await keep(sessions, timed()))
    played, wait = await play(sessions, run, FUTURE + minutes(0.99))
    assert played == [] and wait is not None and 0 < wait <= 1
    assert await _incidents(sessions, run.id) == []

    played, wait = await play(sessions, run, FUTURE + minutes(1))
    assert [(p.inject, p.kind) for p in played] == [(0, "create")]
    assert wait == 29 * 60  # the update at 0:30, at ×1
    (leak,) = await _incidents(sessions, run.id)
    assert (leak.exercise, leak.source, leak.status) == (True, SOURCE, "reported")
    assert leak.created_by == "system:exercise"

    played, _ = await play(sessions, run, FUTURE + minutes(31))
    assert [p.kind for p in played] == ["update", "message"]
    (leak,) = await _incidents(sessions, run.id)
    assert (leak.status, leak.version) == ("confirmed", 2)
    progress = await state(sessions, run, FUTURE + minutes(31))
    assert [i["state"] for i in progress["injects"]] == ["played", "played", "played", "upcoming"]
    # The call at 1:00 is within the quarter of an hour the panel looks ahead: not yet.
    assert progress["calls"] == []
    assert [c["index"] for c in (await state(sessions, run, FUTURE + minutes(46)))["calls"]] == [3]

    played, wait = await play(sessions, run, FUTURE + minutes(60))
    assert [p.kind for p in played] == ["call"]
    assert (await state(sessions, run, FUTURE + minutes(60)))["status"] == "finished"


async def test_exercise_objects_stay_out_of_the_real_picture(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    run = await start(sessions, await keep(sessions, timed()))
    await play(sessions, run, FUTURE + minutes(1))
    (leak,) = await _incidents(sessions, run.id)
    async with sessions() as session:
        real, _ = await objects.page(
            session, INCIDENTS, objects.ListFilter(exercise=False, q=leak.ref), None, 10, None
        )
        drill, _ = await objects.page(
            session, INCIDENTS, objects.ListFilter(exercise=True, q=leak.ref), None, 10, None
        )
    assert real == []
    assert [f["id"] for f in drill] == [str(leak.id)]


async def test_a_paused_run_plays_nothing_and_resumes_where_it_stood(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    run = await start(sessions, await keep(sessions, timed()))
    await play(sessions, run, FUTURE + minutes(10))
    await control(sessions, run, FUTURE + minutes(10), "pause")
    played, wait = await play(sessions, run, FUTURE + minutes(300))
    assert (played, wait) == ([], None)
    assert (await state(sessions, run, FUTURE + minutes(300)))["elapsed"] == "0:10:00"

    await control(sessions, run, FUTURE + minutes(300), "resume")
    played, wait = await play(sessions, run, FUTURE + minutes(319))
    assert played == [] and wait == 60  # 0:29 of exercise time: the update at 0:30 in a minute
    played, _ = await play(sessions, run, FUTURE + minutes(320))
    assert [p.kind for p in played] == ["update"]


async def test_a_run_at_sixty_times_plays_an_hour_in_a_minute(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    run = await start(sessions, await keep(sessions, timed()), speed=60)
    played, wait = await play(sessions, run, FUTURE)
    assert played == [] and wait == 1  # 0:01 of exercise time is one real second away
    played, _ = await play(sessions, run, FUTURE + minutes(0.5))  # 0:30 exercise time
    assert [p.kind for p in played] == ["create", "update"]
    # Slowed down to ×1 at 0:30: the message at 0:31 is a real minute away.
    await control(sessions, run, FUTURE + minutes(0.5), "speed", 1)
    played, wait = await play(sessions, run, FUTURE + minutes(0.5))
    assert played == [] and wait == 60
    await control(sessions, run, FUTURE + minutes(0.5), "speed", 600)
    played, _ = await play(sessions, run, FUTURE + minutes(0.5) + minutes(0.05))  # +0:30
    assert [p.kind for p in played] == ["message", "call"]


async def test_a_stopped_run_plays_nothing_more(sessions: async_sessionmaker[AsyncSession]) -> None:
    run = await start(sessions, await keep(sessions, timed()))
    await control(sessions, run, FUTURE, "stop")
    assert await play(sessions, run, FUTURE + minutes(120)) == ([], None)
    assert (await state(sessions, run, FUTURE))["status"] == "stopped"


async def test_each_inject_is_played_once_by_racing_players_and_after_a_restart(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    run = await start(sessions, await keep(sessions, timed()))
    results = await asyncio.gather(*(play(sessions, run, FUTURE + minutes(61)) for _ in range(4)))
    # Each inject played by one of them (the run's lock and the play's key), none twice.
    assert sorted(p.inject for found, _ in results for p in found) == [0, 1, 2, 3]
    async with sessions() as session:
        plays = await session.scalar(select(func.count()).where(ExercisePlay.run_id == run.id))
        alerts = await session.scalar(
            select(func.count()).where(
                Alert.entity_id == (await _incidents(sessions, run.id))[0].id
            )
        )
    assert plays == 4
    assert alerts == 1
    assert len(await _incidents(sessions, run.id)) == 1
    (leak,) = await _incidents(sessions, run.id)
    assert leak.version == 2  # created, then updated once
    # A restarted service (a new player, the same database) finds nothing left to play.
    assert await play(sessions, run, FUTURE + minutes(120)) == ([], None)


async def test_messages_to_players_carry_cap_status_exercise(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    run = await start(sessions, await keep(sessions, timed(["pz-5339"])))
    await play(sessions, run, FUTURE + minutes(31))
    (leak,) = await _incidents(sessions, run.id)
    async with sessions() as session:
        alert = await session.scalar(
            select(Alert).where(Alert.entity_id == leak.id, Alert.origin == "exercise")
        )
        assert alert is not None
        recipients = (
            await session.scalars(
                select(Recipient.organisation).where(Recipient.alert_id == alert.id)
            )
        ).all()
    assert alert.status == "Exercise"
    assert alert.texts["fr"]["headline"] == "EXERCICE — Coupure de gaz"
    assert alert.texts["nl"]["headline"] == "OEFENING — Gasonderbreking"
    assert list(recipients) == ["pz-5339"]


async def test_an_inject_that_cannot_be_played_is_set_aside_and_the_run_goes_on(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    import pytest

    from app.alerts.settings import AlertSettings
    from app.background import ItemFailed
    from app.domain.actor import Actor
    from app.exercises.runner import ExerciseRunner

    run = await start(sessions, await keep(sessions, timed()))
    await play(sessions, run, FUTURE + minutes(1))
    (leak,) = await _incidents(sessions, run.id)
    player = Actor("op", "user", role="operator")
    async with sessions() as session, session.begin():
        for status in ("resolved", "closed"):  # the watch closed it before the inject came
            row = await objects.get(session, INCIDENTS, leak.id, None, for_update=True)
            patch = INCIDENTS.update_schema.model_validate({"status": status})
            await objects.update(session, INCIDENTS, leak.id, patch, None, row.version, player)  # type: ignore[arg-type]
    with pytest.raises(ItemFailed) as failed:
        await play(sessions, run, FUTURE + minutes(30))
    assert failed.value.item == (run.id, 1)
    runner = ExerciseRunner(sessions, AlertSettings(), 5, lambda: FUTURE + minutes(30))
    assert await runner._set_aside(failed.value.item, failed.value.error, 3)
    played, _ = await play(sessions, run, FUTURE + minutes(31))
    assert [p.kind for p in played] == ["message"]
    progress = await state(sessions, run, FUTURE + minutes(31))
    (failed_inject,) = [i for i in progress["injects"] if i["state"] == "failed"]
    assert failed_inject["index"] == 1 and "closed" in failed_inject["error"]
    assert progress["progress"] == {"played": 2, "failed": 1, "total": 4}
