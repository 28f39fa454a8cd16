"""Scenarios kept, and runs controlled: start, pause, resume, speed, stop. Each control locks
the run's row (the runner's inject in progress finishes first), folds the exercise time so far
into the run (app.exercises.runner.elapsed), and is logged on the run with who did it."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.actor import Actor
from app.domain.schema import Input
from app.errors import already_exists, conflict, not_found, validation_problem
from app.exercises import scenario as fmt
from app.exercises.models import ExercisePlay, ExerciseRun, ExerciseScenario
from app.exercises.runner import FINISHED, PAUSED, RUNNING, STOPPED, elapsed, scenario_of

EXAMPLES = Path(__file__).parent / "examples"
SPEED_MAX = 600.0
# How far ahead (exercise time) the controller's panel shows the calls to come.
CALLS_AHEAD_SECONDS = 15 * 60
LIVE = (RUNNING, PAUSED)


class RunStart(Input):
    speed: float = Field(1.0, ge=1.0, le=SPEED_MAX)


class RunControl(Input):
    action: Literal["pause", "resume", "speed", "stop"]
    speed: float | None = Field(None, ge=1.0, le=SPEED_MAX)


async def store(
    session: AsyncSession, checked: fmt.Scenario, actor: Actor, now: datetime
) -> ExerciseScenario:
    if await session.scalar(select(ExerciseScenario.id).where(ExerciseScenario.key == checked.key)):
        raise already_exists(
            f"a scenario with key {checked.key!r} is already kept: give this one another key"
        )
    row = ExerciseScenario(
        key=checked.key,
        title=checked.title.model_dump(exclude_none=True),
        document=fmt.normalised(checked),
        injects=len(checked.injects),
        duration_seconds=checked.duration_seconds,
        created_at=now,
        created_by=actor.name,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # the same key, uploaded at the same moment
        raise already_exists(f"a scenario with key {checked.key!r} is already kept") from None
    return row


async def load_example(
    session: AsyncSession, name: str, actor: Actor, now: datetime
) -> ExerciseScenario:
    """One of the scenarios shipped in app/exercises/examples, kept once (by its key)."""
    if name not in examples():  # by name only: never a path
        raise not_found("example scenario", name)
    path = EXAMPLES / f"{name}.yaml"
    checked = await fmt.load(session, path.read_bytes(), "application/yaml")
    found = await session.scalar(
        select(ExerciseScenario).where(ExerciseScenario.key == checked.key)
    )
    return found or await store(session, checked, actor, now)


def examples() -> list[str]:
    return sorted(p.stem for p in EXAMPLES.glob("*.yaml"))


async def get_scenario(session: AsyncSession, scenario_id: uuid.UUID) -> ExerciseScenario:
    row = await session.get(ExerciseScenario, scenario_id)
    if row is None:
        raise not_found("exercise scenario", scenario_id)
    return row


def scenario_json(row: ExerciseScenario, *, whole: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(row.id),
        "key": row.key,
        "title": row.title,
        "injects": row.injects,
        "duration": fmt.offset_text(row.duration_seconds),
        "players": row.document.get("players", []),
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
    }
    if whole:
        out["document"] = row.document
    return out


async def scenarios(session: AsyncSession) -> list[ExerciseScenario]:
    query = select(ExerciseScenario).order_by(ExerciseScenario.created_at.desc())
    return list((await session.scalars(query)).all())


async def delete_scenario(session: AsyncSession, scenario_id: uuid.UUID) -> None:
    row = await get_scenario(session, scenario_id)
    runs = await session.scalar(select(func.count()).where(ExerciseRun.scenario_id == scenario_id))
    if runs:
        raise conflict(
            f"scenario {row.key!r} was played ({runs} run(s)): it is kept for their reports"
        )
    await session.delete(row)


def _logged(run: ExerciseRun, actor: Actor, action: str, now: datetime) -> None:
    entry = {
        "at": now.isoformat(),
        "by": actor.name,
        "action": action,
        "speed": run.speed,
        "elapsed": round(run.elapsed_seconds, 3),
    }
    run.log = [*run.log, entry]
    run.version += 1


async def start(
    session: AsyncSession, scenario_id: uuid.UUID, body: RunStart, actor: Actor, now: datetime
) -> ExerciseRun:
    scenario = await get_scenario(session, scenario_id)
    live = await session.scalar(
        select(ExerciseRun.id).where(
            ExerciseRun.scenario_id == scenario.id, ExerciseRun.status.in_(LIVE)
        )
    )
    if live is not None:
        raise conflict(f"scenario {scenario.key!r} is already being played", run=str(live))
    run = ExerciseRun(
        scenario_id=scenario.id,
        status=RUNNING,
        speed=body.speed,
        elapsed_seconds=0.0,
        anchor_at=now,
        started_at=now,
        started_by=actor.name,
        log=[],
        version=0,
    )
    _logged(run, actor, "start", now)
    session.add(run)
    try:
        await session.flush()
    except IntegrityError:  # started twice at the same moment: the unique index decides
        raise conflict(f"scenario {scenario.key!r} is already being played") from None
    return run


async def get_run(
    session: AsyncSession, run_id: uuid.UUID, *, for_update: bool = False
) -> ExerciseRun:
    query = select(ExerciseRun).where(ExerciseRun.id == run_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    run = await session.scalar(query)
    if run is None:
        raise not_found("exercise run", run_id)
    return run


async def control(
    session: AsyncSession, run_id: uuid.UUID, body: RunControl, actor: Actor, now: datetime
) -> ExerciseRun:
    """Pause, resume, change speed or stop; 409 naming the run's state when the action does
    not apply to it (a stopped run is not resumed: start a new one)."""
    run = await get_run(session, run_id, for_update=True)
    allowed = {
        "pause": (RUNNING,),
        "resume": (PAUSED,),
        "speed": LIVE,
        "stop": LIVE,
    }[body.action]
    if run.status not in allowed:
        raise conflict(
            f"an exercise run that is {run.status} cannot {body.action}", state=run.status
        )
    if body.action == "speed" and body.speed is None:
        raise validation_problem([{"loc": ["body", "speed"], "msg": "the new speed (1 to 600)"}])
    run.elapsed_seconds = elapsed(run, now)  # the time so far, at the old speed
    run.anchor_at = now
    if body.action == "pause":
        run.status = PAUSED
    elif body.action == "resume":
        run.status = RUNNING
    elif body.action == "speed":
        assert body.speed is not None
        run.speed = body.speed
    else:
        run.status, run.ended_at = STOPPED, now
    _logged(run, actor, body.action, now)
    await session.flush()
    return run


async def runs(session: AsyncSession, scenario_id: uuid.UUID | None = None) -> list[ExerciseRun]:
    query = select(ExerciseRun).order_by(ExerciseRun.started_at.desc())
    if scenario_id is not None:
        query = query.where(ExerciseRun.scenario_id == scenario_id)
    return list((await session.scalars(query)).all())


async def plays_of(session: AsyncSession, run_id: uuid.UUID) -> dict[int, ExercisePlay]:
    rows = await session.scalars(select(ExercisePlay).where(ExercisePlay.run_id == run_id))
    return {p.inject: p for p in rows}


def _inject_json(
    index: int, inject: fmt.Inject, play: ExercisePlay | None, at: float
) -> dict[str, Any]:
    if play is None:
        state = "due" if inject.seconds <= at else "upcoming"
    else:
        state = "failed" if play.error else "played"
    out: dict[str, Any] = {
        "index": index,
        "at": inject.at,
        "kind": inject.kind,
        "label": inject.label(),
        "object_key": inject.object_key,
        "state": state,
        "played_at": play.played_at.isoformat() if play else None,
        "entity": play.entity if play else None,
        "entity_id": str(play.entity_id) if play and play.entity_id else None,
        "alert_id": str(play.alert_id) if play and play.alert_id else None,
        "error": play.error if play else None,
    }
    if inject.call is not None:
        out["call"] = inject.call.model_dump(exclude_none=True)
    return out


async def run_json(
    session: AsyncSession, run: ExerciseRun, now: datetime, *, log: bool = True
) -> dict[str, Any]:
    """A run as its controllers follow it: time, speed, each inject's state, and the phone
    calls to make (due and played, or coming within the next quarter of an hour)."""
    scenario_row = await get_scenario(session, run.scenario_id)
    scenario = scenario_of(scenario_row)
    plays = await plays_of(session, run.id)
    at = elapsed(run, now)
    injects = [_inject_json(i, scenario.injects[i], plays.get(i), at) for i in scenario.order()]
    calls = [
        i
        for i in injects
        if i["kind"] == "call"
        and (i["state"] != "upcoming" or offset(i["at"]) - at <= CALLS_AHEAD_SECONDS)
    ]
    out: dict[str, Any] = {
        "id": str(run.id),
        "scenario": scenario_json(scenario_row),
        "status": run.status,
        "speed": run.speed,
        "elapsed": fmt.offset_text(at),
        "elapsed_seconds": round(at, 3),
        "started_at": run.started_at.isoformat(),
        "started_by": run.started_by,
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
        "version": run.version,
        "progress": {
            "played": sum(1 for i in injects if i["state"] == "played"),
            "failed": sum(1 for i in injects if i["state"] == "failed"),
            "total": len(injects),
        },
        "injects": injects,
        "calls": calls,
    }
    if log:
        out["log"] = run.log
    return out


def offset(text: str) -> int:
    return fmt.offset_seconds(text)


def finished(run: ExerciseRun) -> bool:
    return run.status in (STOPPED, FINISHED)
