"""Escalation: an alert a partner has not acknowledged by its deadline goes to the partner's
next on-duty SPOC, with a new deadline; when no SPOC is left, it is flagged to SITCEN.

The clock is injected (`now`), so tests move time instead of waiting for it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.lifecycle.service import (
    channels_of,
    contacts_of,
    email_delivery,
    insert_deliveries,
    notify,
    push_deliveries,
    spoc_at,
)
from app.alerts.models import Alert, Recipient
from app.alerts.settings import AlertSettings
from app.background import ItemFailed, Loop, record_dead_letter
from app.clock import Clock

log = logging.getLogger(__name__)
BATCH = 100


@dataclass(frozen=True)
class Step:
    alert_id: str
    organisation: str
    level: int
    flagged: bool


async def escalate_due(session: AsyncSession, settings: AlertSettings, now: datetime) -> list[Step]:
    """Escalate every overdue, unacknowledged recipient once; what was done."""
    due = list(
        (
            await session.scalars(
                select(Recipient)
                .where(
                    Recipient.acknowledged_at.is_(None),
                    Recipient.flagged_at.is_(None),
                    Recipient.deadline_at <= now,
                )
                .order_by(Recipient.deadline_at)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    if not due:
        return []
    orgs = sorted({r.organisation for r in due})
    contacts, channels = await contacts_of(session, orgs), await channels_of(session, orgs)
    severities = dict(
        (
            await session.execute(
                select(Alert.id, Alert.severity).where(Alert.id.in_({r.alert_id for r in due}))
            )
        ).all()
    )
    steps = []
    for r in due:
        try:
            level = r.level + 1
            spoc = spoc_at(contacts.get(r.organisation, []), level, now)
            mail = email_delivery(
                r.alert_id, r.organisation, channels.get(r.organisation, []), spoc, level, now
            )
            if mail is None:
                r.flagged_at = now
            else:
                # The partner's subscribed devices are reminded at each level, as the next
                # SPOC is mailed: whoever of them answers first stops the escalation.
                reminders = await push_deliveries(session, r.alert_id, [r.organisation], level, now)
                await insert_deliveries(session, [mail, *reminders])
                r.level, r.escalated_at = level, now
                deadline = settings.deadline_for(severities[r.alert_id])
                r.deadline_at = now + timedelta(seconds=deadline)
            await notify(session, "state", r.alert_id, r.organisation)
        except Exception as error:
            # The whole batch rolls back; the worker tries again and, if this recipient keeps
            # failing, sets it aside (EscalationWorker._set_aside) so the others go on.
            key = f"recipient {r.organisation} of alert {r.alert_id}"
            raise ItemFailed(key, (r.alert_id, r.organisation), error) from error
        steps.append(Step(str(r.alert_id), r.organisation, r.level, mail is None))
    return steps


class EscalationWorker:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: AlertSettings, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock
        self.loop = Loop(
            "alerts-escalate",
            self._step,
            poll_seconds=settings.escalation_poll_seconds,
            set_aside=self._set_aside,
        )
        self.wake = self.loop.wake

    async def run(self) -> None:
        await self.loop.run()

    async def _step(self) -> float | None:
        async with self._sessions() as session, session.begin():
            steps = await escalate_due(session, self._settings, self._clock())
        for s in steps:
            log.info(
                "alerts: escalated %s for %s (level %d, flagged %s)",
                s.alert_id,
                s.organisation,
                s.level,
                s.flagged,
            )
        return 0.0 if len(steps) == BATCH else None

    async def _set_aside(
        self, key: tuple[uuid.UUID, str], error: BaseException, attempts: int
    ) -> bool:
        """A recipient that cannot be escalated is flagged to SITCEN, as when no SPOC is left,
        and its error kept as a dead letter: the watch follows it up by phone."""
        alert_id, organisation = key
        now = self._clock()
        async with self._sessions() as session, session.begin():
            r = await session.get(Recipient, (alert_id, organisation), with_for_update=True)
            if r is None or r.flagged_at is not None or r.acknowledged_at is not None:
                return False
            r.flagged_at = now
            item = f"recipient {organisation} of alert {alert_id}"
            await record_dead_letter(session, self.loop.name, item, error, attempts, now)
            await notify(session, "state", alert_id, organisation)
        return True
