"""Playing a run: each inject at its time, exactly once, through the one write path.

Exercise time runs at the run's speed from its anchor (`elapsed`). Each instance's loop looks
for running runs; for each, it takes the run's row lock (`FOR UPDATE SKIP LOCKED`: while one
instance plays a run, another leaves it alone, and a controller's pause waits for the inject
being played), plays the next inject that is due in a transaction of its own, with the row of
`exercise_plays` whose primary key (run, inject) makes a second play of it impossible, whatever
instances, restarts or retries. Every object an inject writes carries `exercise: true`, the
source `exercise` and the external id `<run>:<key>` (a retried create finds the first); every
message is an alert with CAP status Exercise.

The clock is injected (`now`), so tests move exercise time instead of waiting for it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.enums import CapStatus, MsgType, Origin
from app.alerts.lifecycle.compose import AlertDraft, Texts
from app.alerts.lifecycle.manual import REGION
from app.alerts.lifecycle.service import create_alert
from app.alerts.settings import AlertSettings
from app.background import ItemFailed, Loop, describe, record_dead_letter
from app.clock import Clock
from app.domain import objects
from app.domain.actor import Actor
from app.domain.enums import Entity
from app.domain.features import to_feature
from app.domain.registry import BY_ENTITY
from app.exercises.models import ExercisePlay, ExerciseRun, ExerciseScenario
from app.exercises.scenario import Inject, Scenario
from app.geo.validation import parse_geometry

log = logging.getLogger(__name__)
ACTOR = Actor("system:exercise", "system")
SOURCE = "exercise"
RUNNING, PAUSED, STOPPED, FINISHED = "running", "paused", "stopped", "finished"
# A message's headline says what it is in every language, whatever the reader's system shows
# of CAP's status.
MARK = {"fr": "EXERCICE", "nl": "OEFENING", "en": "EXERCISE"}


def elapsed(run: ExerciseRun, now: datetime) -> float:
    """The run's exercise time, in seconds since its start."""
    if run.status != RUNNING:
        return run.elapsed_seconds
    return run.elapsed_seconds + max(0.0, (now - run.anchor_at).total_seconds()) * run.speed


def scenario_of(row: ExerciseScenario) -> Scenario:
    return Scenario.model_validate(row.document)


@dataclass(frozen=True)
class Played:
    run_id: uuid.UUID
    inject: int
    kind: str


async def _object_of(
    session: AsyncSession, run_id: uuid.UUID, key: str
) -> tuple[Entity, uuid.UUID] | None:
    row = (
        await session.execute(
            select(ExercisePlay.entity, ExercisePlay.entity_id).where(
                ExercisePlay.run_id == run_id,
                ExercisePlay.object_key == key,
                ExercisePlay.kind == "create",
                ExercisePlay.entity_id.is_not(None),
            )
        )
    ).first()
    return (Entity(row.entity), row.entity_id) if row is not None else None


async def _create(
    session: AsyncSession, run: ExerciseRun, inject: Inject, play: dict[str, Any]
) -> None:
    c = inject.create
    assert c is not None
    spec = BY_ENTITY[Entity(c.entity)]
    values = dict(c.properties)
    for name, key in c.links.items():
        target = await _object_of(session, run.id, key)
        if target is None:
            raise LookupError(f"{key!r} was not created (its inject failed)")
        values[name] = target[1]
    values.update(exercise=True, source=SOURCE, external_id=f"{run.id}:{c.key}")
    props = spec.create_schema.model_validate(values)
    geometry = (
        await parse_geometry(c.geometry, allowed=spec.geometry_types)
        if c.geometry is not None
        else None
    )
    written = await objects.create(session, spec, props, geometry, ACTOR)  # type: ignore[arg-type]
    play.update(entity=spec.entity.value, entity_id=written.id, version=written.version)


async def _update(
    session: AsyncSession, run: ExerciseRun, inject: Inject, play: dict[str, Any]
) -> None:
    u = inject.update
    assert u is not None
    target = await _object_of(session, run.id, u.object)
    if target is None:
        raise LookupError(f"{u.object!r} was not created (its inject failed)")
    spec = BY_ENTITY[target[0]]
    row = await objects.get(session, spec, target[1], None, for_update=True)
    patch = spec.update_schema.model_validate(u.properties)
    geometry = (
        await parse_geometry(u.geometry, allowed=spec.geometry_types)
        if u.geometry is not None
        else None
    )
    # The version it stands on now: a player's change meanwhile is part of the exercise.
    written = await objects.update(
        session,
        spec,
        row.id,
        patch,  # type: ignore[arg-type]
        geometry,
        row.version,
        ACTOR,
    )
    play.update(entity=spec.entity.value, entity_id=written.id, version=written.version)


def _texts(inject: Inject) -> Texts:
    m = inject.message
    assert m is not None
    texts: Texts = {}
    for lang in ("fr", "nl", "en"):
        headline = getattr(m.headline, lang)
        if headline is None:
            continue
        text = {"headline": f"{MARK[lang]} — {headline}"[:300], "event": MARK[lang]}
        for name in ("description", "instruction"):
            value = getattr(getattr(m, name), lang, None) if getattr(m, name) else None
            if value:
                text[name] = value
        texts[lang] = text
    return texts


async def _message(
    session: AsyncSession,
    run: ExerciseRun,
    inject: Inject,
    play: dict[str, Any],
    settings: AlertSettings,
    now: datetime,
) -> None:
    m = inject.message
    assert m is not None
    draft = AlertDraft(
        status=CapStatus.Exercise,
        msg_type=MsgType.Alert,
        severity=m.severity,
        urgency=m.urgency,
        certainty=m.certainty,
        categories=[m.category],
        event=MARK["en"],
        texts=_texts(inject),
        area_desc=REGION,
        origin=Origin.exercise,
    )
    target = await _object_of(session, run.id, m.about) if m.about else None
    if target is not None:
        spec = BY_ENTITY[target[0]]
        row = await objects.get(session, spec, target[1], None)
        draft.entity, draft.entity_id, draft.entity_ref = spec.entity.value, row.id, row.ref
        draft.area = to_feature(spec, row)["geometry"]
        draft.area_codes = list(row.municipality_codes or [])
        play.update(entity=spec.entity.value, entity_id=row.id)
    new = await create_alert(session, draft, m.to, actor=ACTOR.name, settings=settings, now=now)
    play["alert_id"] = new.alert.id


async def _about(
    session: AsyncSession, run: ExerciseRun, inject: Inject, play: dict[str, Any]
) -> None:
    assert inject.call is not None
    if inject.call.about:
        target = await _object_of(session, run.id, inject.call.about)
        if target is not None:
            play.update(entity=target[0].value, entity_id=target[1])


def _finish(run: ExerciseRun, now: datetime) -> None:
    run.status, run.ended_at = FINISHED, now
    run.version += 1
    run.log = [*run.log, {"at": now.isoformat(), "by": ACTOR.name, "action": "finished"}]


async def _claim(session: AsyncSession, values: dict[str, Any]) -> bool:
    """The play's row, if nobody wrote it: the primary key decides, whoever asks."""
    claimed = await session.execute(
        insert(ExercisePlay)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(ExercisePlay.inject)
    )
    return claimed.first() is not None


async def play_next(
    session: AsyncSession,
    run_id: uuid.UUID,
    now: datetime,
    settings: AlertSettings,
    *,
    skip_locked: bool = True,
) -> float | Played | None:
    """In the caller's transaction: the run's next inject played if it is due (Played); or the
    real seconds until it is (float); or None when the run is not running here (paused,
    ended, or being played by another instance). A run whose injects are all played ends."""
    run = await session.scalar(
        select(ExerciseRun)
        .where(ExerciseRun.id == run_id, ExerciseRun.status == RUNNING)
        .with_for_update(skip_locked=skip_locked)
    )
    if run is None:
        return None
    scenario_row = await session.get(ExerciseScenario, run.scenario_id)
    assert scenario_row is not None  # a scenario with runs is never deleted (RESTRICT)
    scenario = scenario_of(scenario_row)
    done = set(
        (
            await session.scalars(select(ExercisePlay.inject).where(ExercisePlay.run_id == run.id))
        ).all()
    )
    pending = [i for i in scenario.order() if i not in done]
    if not pending:  # the last one was set aside
        _finish(run, now)
        return None
    index = pending[0]
    inject = scenario.injects[index]
    at = elapsed(run, now)
    if inject.seconds > at:
        return (inject.seconds - at) / run.speed
    play: dict[str, Any] = {
        "run_id": run.id,
        "inject": index,
        "kind": inject.kind,
        "at_seconds": inject.seconds,
        "played_at": now,
        "elapsed_seconds": at,
        "object_key": inject.object_key,
    }
    if not await _claim(session, dict(play)):
        return Played(run.id, index, inject.kind)
    try:
        if inject.create is not None:
            await _create(session, run, inject, play)
        elif inject.update is not None:
            await _update(session, run, inject, play)
        elif inject.message is not None:
            await _message(session, run, inject, play, settings, now)
        else:
            await _about(session, run, inject, play)
    except Exception as error:
        # This inject's transaction rolls back; the loop tries again and, if it keeps
        # failing, sets it aside (ExerciseRunner._set_aside) so that the run goes on.
        key = f"exercise run {run.id} inject {index}"
        raise ItemFailed(key, (run.id, index), error) from error
    row = await session.get(ExercisePlay, (run.id, index))
    assert row is not None  # claimed above, in this transaction
    for name in ("entity", "entity_id", "version", "alert_id"):
        setattr(row, name, play.get(name))
    if len(pending) == 1:  # the last: the run ends with it, in its transaction
        _finish(run, now)
    return Played(run.id, index, inject.kind)


async def set_aside(
    session: AsyncSession, run_id: uuid.UUID, index: int, error: BaseException, now: datetime
) -> bool:
    """An inject that keeps failing is recorded as played with its error, so that the run goes
    on; the controller sees it on the panel and in the report."""
    run = await session.get(ExerciseRun, run_id)
    if run is None:
        return False
    scenario = scenario_of(await session.get_one(ExerciseScenario, run.scenario_id))
    inject = scenario.injects[index]
    return await _claim(
        session,
        {
            "run_id": run_id,
            "inject": index,
            "kind": inject.kind,
            "at_seconds": inject.seconds,
            "played_at": now,
            "elapsed_seconds": elapsed(run, now),
            "object_key": inject.object_key,
            "error": describe(error),
        },
    )


async def running(session: AsyncSession) -> list[uuid.UUID]:
    return list(
        (
            await session.scalars(
                select(ExerciseRun.id).where(ExerciseRun.status == RUNNING).order_by(ExerciseRun.id)
            )
        ).all()
    )


async def play_due(
    sessions: async_sessionmaker[AsyncSession],
    settings: AlertSettings,
    now: datetime,
    only: Collection[uuid.UUID] | None = None,
    *,
    skip_locked: bool = True,
) -> tuple[list[Played], float | None]:
    """Every inject due at `now` in every running run (or those of `only`), each in a
    transaction of its own; and the real seconds until the next one falls due (None: none
    waits). A run another player holds is left to it (`skip_locked`), or waited for."""
    async with sessions() as session:
        ids = [i for i in await running(session) if only is None or i in only]
    played: list[Played] = []
    wait: float | None = None
    for run_id in ids:
        while True:
            async with sessions() as session, session.begin():
                result = await play_next(session, run_id, now, settings, skip_locked=skip_locked)
            if isinstance(result, Played):
                played.append(result)
                continue
            if result is not None:
                wait = result if wait is None else min(wait, result)
            break
    return played, wait


class ExerciseRunner:
    """The loop that plays the running exercises of every instance (the run's lock keeps two
    instances from playing one run at once). Woken by a controller's start or resume; asleep
    until the next inject is due, or `poll_seconds` at most."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: AlertSettings,
        poll_seconds: float,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock
        self.loop = Loop(
            "exercises", self._step, poll_seconds=poll_seconds, set_aside=self._set_aside
        )

    async def _step(self) -> float | None:
        played, wait = await play_due(self._sessions, self._settings, self._clock())
        for p in played:
            log.info("exercise run %s: inject %d (%s) played", p.run_id, p.inject, p.kind)
        return wait

    async def _set_aside(
        self, item: tuple[uuid.UUID, int], error: BaseException, attempts: int
    ) -> bool:
        run_id, index = item
        log.error("exercise run %s: inject %d set aside after %d attempts", run_id, index, attempts)
        now = self._clock()
        async with self._sessions() as session, session.begin():
            if not await set_aside(session, run_id, index, error, now):
                return False
            item_name = f"exercise run {run_id} inject {index}"
            await record_dead_letter(session, self.loop.name, item_name, error, attempts, now)
        return True
