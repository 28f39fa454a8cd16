"""Escalation: an alert a partner has not acknowledged by its deadline goes to the partner's
next on-duty SPOC, with a new deadline; when no SPOC is left, it is flagged to SITCEN.

The clock is injected (`now`), so tests move time instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert, Recipient
from app.alerts.service import (
    channels_of,
    contacts_of,
    email_delivery,
    insert_deliveries,
    notify,
    spoc_at,
)
from app.alerts.settings import AlertSettings
from app.realtime.listener import DB_ERRORS

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
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
        level = r.level + 1
        spoc = spoc_at(contacts.get(r.organisation, []), level, now)
        mail = email_delivery(
            r.alert_id, r.organisation, channels.get(r.organisation, []), spoc, level, now
        )
        if mail is None:
            r.flagged_at = now
        else:
            await insert_deliveries(session, [mail])
            r.level, r.escalated_at = level, now
            r.deadline_at = now + timedelta(seconds=settings.deadline_for(severities[r.alert_id]))
        await notify(session, "state", r.alert_id, r.organisation)
        steps.append(Step(str(r.alert_id), r.organisation, r.level, mail is None))
    return steps


class EscalationWorker:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: AlertSettings, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock
        self.wake = asyncio.Event()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self._settings.escalation_poll_seconds)
            self.wake.clear()
            try:
                while True:
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
                    if len(steps) < BATCH:
                        break
            except DB_ERRORS as e:
                log.warning("alerts: escalation failed (%s); retrying", e)
