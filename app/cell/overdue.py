"""Overdue tasks: an open or in-progress task past its due time is escalated once (per due
time) through alerting, as an alert to its owner organisation (its channels, then the
escalation of unacknowledged alerts to its next SPOC, then SITCEN) that SITCEN's staff also
see live on /ws. A task owned by no organisation raises the alert to SITCEN alone.

The clock is injected (`now`), so tests move time instead of waiting for it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.enums import (
    CapCategory,
    CapSeverity,
    CapStatus,
    Certainty,
    MsgType,
    Origin,
    Urgency,
)
from app.alerts.lifecycle.compose import AlertDraft, Texts
from app.alerts.lifecycle.manual import REGION
from app.alerts.lifecycle.service import create_alert
from app.alerts.settings import AlertSettings
from app.background import ItemFailed, Loop, record_dead_letter
from app.cell.models import TaskEscalation
from app.clock import Clock
from app.domain.enums import Entity, Language, TaskPriority
from app.domain.features import to_feature
from app.domain.task import PENDING, SPEC, Task
from app.vocabulary import label

log = logging.getLogger(__name__)
BATCH = 100
ACTOR = "system:tasks"
LOCAL_TIME = ZoneInfo("Europe/Brussels")
SEVERITY = {
    TaskPriority.low: CapSeverity.Minor,
    TaskPriority.normal: CapSeverity.Moderate,
    TaskPriority.high: CapSeverity.Severe,
    TaskPriority.urgent: CapSeverity.Extreme,
}
WORDS = {
    "fr": ("Tâche en retard", "échéance", "Mettez la tâche à jour ou appelez le SITCEN."),
    "nl": ("Taak over tijd", "deadline", "Werk de taak bij of bel SITCEN."),
    "en": ("Overdue task", "due", "Update the task or call SITCEN."),
}


@dataclass(frozen=True)
class Escalated:
    task_id: uuid.UUID
    ref: str
    organisation: str | None
    alert_id: uuid.UUID


def _texts(task: Task) -> Texts:
    assert task.due_at is not None  # only tasks with a due time are overdue
    due = task.due_at.astimezone(LOCAL_TIME).strftime("%d/%m/%Y %H:%M")
    texts: Texts = {}
    for language in Language:
        lang = language.value
        what, due_word, instruction = WORDS[lang]
        facts = [
            task.ref,
            f"{due_word} {due}",
            label("task_priority", task.priority, lang),
            label("task_status", task.status, lang),
        ]
        texts[lang] = {
            "headline": f"{what} — {task.title}"[:300],
            "description": "\n".join(x for x in (" · ".join(facts), task.description) if x),
            "instruction": instruction,
            "event": what,
        }
    return texts


def draft_for(task: Task) -> AlertDraft:
    texts = _texts(task)
    return AlertDraft(
        status=CapStatus.Exercise if task.exercise else CapStatus.Actual,
        msg_type=MsgType.Alert,
        severity=SEVERITY[TaskPriority(task.priority)],
        urgency=Urgency.Immediate,
        certainty=Certainty.Observed,
        categories=[CapCategory.Other],
        event=texts["en"]["event"],
        texts=texts,
        area_desc=REGION,
        area=to_feature(SPEC, task)["geometry"],
        area_codes=list(task.municipality_codes or []),
        origin=Origin.overdue_task,
        entity=Entity.task.value,
        entity_id=task.id,
        entity_ref=task.ref,
    )


async def _claim(
    session: AsyncSession, task_id: uuid.UUID, due_at: datetime, now: datetime
) -> bool:
    """Record the escalation of a task for a due time, if nobody did: whatever two instances
    read, one escalation per due time (the primary key decides)."""
    claim = await session.execute(
        insert(TaskEscalation)
        .values(task_id=task_id, due_at=due_at, escalated_at=now)
        .on_conflict_do_nothing()
        .returning(TaskEscalation.task_id)
    )
    return claim.first() is not None


async def escalate_overdue(
    session: AsyncSession, settings: AlertSettings, now: datetime
) -> list[Escalated]:
    """Escalate every pending task past its due time that was not escalated for that due
    time; what was done. Tasks another instance is escalating (locked) are left to it."""
    escalated = exists().where(
        TaskEscalation.task_id == Task.id, TaskEscalation.due_at == Task.due_at
    )
    due = (
        await session.scalars(
            select(Task)
            .where(Task.status.in_(PENDING), Task.due_at <= now, ~escalated)
            .order_by(Task.due_at)
            .limit(BATCH)
            .with_for_update(of=Task, skip_locked=True)
        )
    ).all()
    done = []
    for task in due:
        try:
            assert task.due_at is not None  # selected for being past it
            if not await _claim(session, task.id, task.due_at, now):
                continue
            owner = task.owner_organisation
            new = await create_alert(
                session,
                draft_for(task),
                [owner] if owner else [],
                actor=ACTOR,
                settings=settings,
                now=now,
            )
            await session.execute(
                update(TaskEscalation)
                .where(TaskEscalation.task_id == task.id, TaskEscalation.due_at == task.due_at)
                .values(alert_id=new.alert.id)
            )
        except Exception as error:
            # The whole batch rolls back; the worker tries again and, if this task keeps
            # failing, sets it aside (OverdueTasks._set_aside) so that the others go on.
            raise ItemFailed(f"task {task.ref}", (task.id, task.due_at), error) from error
        done.append(Escalated(task.id, task.ref, owner, new.alert.id))
    return done


class OverdueTasks:
    """The loop that escalates overdue tasks, every SITCEN_TASK_OVERDUE_POLL_SECONDS."""

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
            "tasks-overdue", self._step, poll_seconds=poll_seconds, set_aside=self._set_aside
        )

    async def _step(self) -> float | None:
        async with self._sessions() as session, session.begin():
            done = await escalate_overdue(session, self._settings, self._clock())
        for e in done:
            log.info("tasks: %s overdue, escalated to %s", e.ref, e.organisation or "SITCEN")
        return 0.0 if len(done) == BATCH else None

    async def _set_aside(
        self, key: tuple[uuid.UUID, datetime], error: BaseException, attempts: int
    ) -> bool:
        """A task that cannot be escalated is recorded as escalated without an alert, and its
        error kept as a dead letter (/api/alerts/health): the watch follows it up by hand."""
        task_id, due_at = key
        now = self._clock()
        async with self._sessions() as session, session.begin():
            if not await _claim(session, task_id, due_at, now):
                return False
            item = f"overdue task {task_id} (due {due_at.isoformat()})"
            await record_dead_letter(session, self.loop.name, item, error, attempts, now)
        return True
