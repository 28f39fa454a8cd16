"""What starts standard procedures by itself: a durable consumer of the change feed.

It reads the changes after its cursor (`procedures`, app.domain.changes), starts the checklist
of every active template a change triggers (an incident created or raised to a category and
severity, an activation opened at a level, from a template or reaching a phase, a planned event
of a kind), and moves its cursor, in ONE transaction: a crash before the commit leaves nothing
and the batch is read again; after it, never again. With several instances, an advisory lock
lets one read while the others skip, and a checklist starts at most once per template and
subject whatever happens (its idempotency key, app.cell.procedures). A change it fails on is set
aside as a dead letter after a few attempts, as the alert evaluator does.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.cell.procedures import WATCHED, Triggers, list_templates, start_checklist, started_by
from app.clock import Clock
from app.domain import changes as feed
from app.domain.actor import Actor
from app.domain.enums import Entity
from app.domain.follower import FeedFollower

log = logging.getLogger(__name__)

# pg_try_advisory_xact_lock key: "procs" in ASCII, recognisable in pg_locks.
LOCK = 0x70726F6373
ACTOR = Actor("system:procedures", "system")


@dataclass(frozen=True, slots=True)
class Trigger:
    code: str
    triggers: Triggers


async def active_triggers(session: AsyncSession) -> list[Trigger]:
    return [
        Trigger(t.code, Triggers.model_validate(t.triggers))
        for t in await list_templates(session, active=True)
        if t.triggers
    ]


def _subject(entity: str, entity_id: uuid.UUID) -> dict[str, Any]:
    if entity == Entity.activation:
        return {"activation_id": entity_id}
    return {"subject_entity": entity, "subject_id": entity_id}


class ProcedureStarter(FeedFollower):
    """The worker: woken with the feed listener (every NOTIFY of the feed), polling as a safety
    net. `done` counts the checklists it started (tests, health)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, poll_seconds: float
    ) -> None:
        super().__init__(
            sessions,
            clock,
            poll_seconds,
            name="procedures-start",
            lock=LOCK,
            cursor=feed.PROCEDURES_CURSOR,
            entities=list(WATCHED),
        )

    async def handle(self, session: AsyncSession, rows: list[Any]) -> int:
        relevant = [r for r in rows if r["feature"] is not None]
        if not relevant:
            return 0
        triggers = await active_triggers(session)
        started = 0
        for row in relevant:
            props = orjson.loads(row["feature"])["properties"]
            before = orjson.loads(row["previous"])["properties"] if row["previous"] else None
            for trigger in triggers:
                if not started_by(trigger.triggers, row["entity"], props, before):
                    continue
                written = await start_checklist(
                    session, ACTOR, trigger.code, **_subject(row["entity"], row["entity_id"])
                )
                if written.created:
                    started += 1
                    log.info(
                        "procedure %s started for %s %s",
                        trigger.code,
                        row["entity"],
                        row["entity_id"],
                    )
        return started
