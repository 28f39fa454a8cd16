"""Reminders of the contact directory's confirmation schedule: an organisation is reminded
through the alerting it already receives (a manual alert to it: its live dashboard, webhooks,
an e-mail to its on-duty SPOC, escalation when nobody acknowledges) some days before its
confirmation falls due and once it is overdue, once per period (app.partners.directory records
each reminder sent).

The clock is injected, so that tests move time instead of waiting for it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.enums import CapCategory, CapSeverity, CapStatus, Certainty, MsgType, Urgency
from app.alerts.lifecycle import service
from app.alerts.lifecycle.compose import AlertDraft, Texts
from app.alerts.lifecycle.manual import REGION
from app.alerts.settings import AlertSettings
from app.background import ItemFailed, Loop, record_dead_letter
from app.clock import Clock
from app.partners import directory
from app.partners.directory import Policy, ReminderDue
from app.partners.models import ReminderKind
from app.settings import Settings

log = logging.getLogger(__name__)
ACTOR = "system:directory"
BRUSSELS = ZoneInfo("Europe/Brussels")


def texts(reminder: ReminderDue) -> Texts:
    day = reminder.due_at.astimezone(BRUSSELS).strftime("%d/%m/%Y")
    if reminder.kind == ReminderKind.overdue:
        return {
            "fr": {
                "headline": "Annuaire SITCEN : confirmation de vos contacts en retard",
                "description": f"La confirmation de vos contacts était due le {day}.",
                "instruction": "Vérifiez vos entrées de l'annuaire et confirmez-les dans sitcen.",
                "event": "Confirmation de l'annuaire",
            },
            "nl": {
                "headline": "SITCEN-gids: bevestiging van uw contacten te laat",
                "description": f"De bevestiging van uw contacten was verschuldigd op {day}.",
                "instruction": "Controleer uw gegevens in de gids en bevestig ze in sitcen.",
                "event": "Bevestiging van de gids",
            },
            "en": {
                "headline": "SITCEN directory: confirmation of your contacts overdue",
                "description": f"The confirmation of your contacts was due on {day}.",
                "instruction": "Check your directory entries and confirm them in sitcen.",
                "event": "Directory confirmation",
            },
        }
    return {
        "fr": {
            "headline": "Annuaire SITCEN : confirmez vos contacts",
            "description": f"La confirmation de vos contacts est due le {day}.",
            "instruction": "Vérifiez vos entrées de l'annuaire et confirmez-les dans sitcen.",
            "event": "Confirmation de l'annuaire",
        },
        "nl": {
            "headline": "SITCEN-gids: bevestig uw contacten",
            "description": f"De bevestiging van uw contacten is verschuldigd op {day}.",
            "instruction": "Controleer uw gegevens in de gids en bevestig ze in sitcen.",
            "event": "Bevestiging van de gids",
        },
        "en": {
            "headline": "SITCEN directory: confirm your contacts",
            "description": f"The confirmation of your contacts is due on {day}.",
            "instruction": "Check your directory entries and confirm them in sitcen.",
            "event": "Directory confirmation",
        },
    }


def draft(reminder: ReminderDue) -> AlertDraft:
    overdue = reminder.kind == ReminderKind.overdue
    return AlertDraft(
        status=CapStatus.Actual,
        msg_type=MsgType.Alert,
        severity=CapSeverity.Minor,
        urgency=Urgency.Expected if overdue else Urgency.Future,
        certainty=Certainty.Observed,
        categories=[CapCategory.Other],
        event="Directory confirmation",
        texts=texts(reminder),
        area_desc=REGION,
    )


async def send(
    session: AsyncSession, reminder: ReminderDue, alert_settings: AlertSettings, now: datetime
) -> bool:
    """Send one reminder and record it, in the caller's transaction; False (and the caller
    rolls back) if another instance sent it first."""
    created = await service.create_alert(
        session,
        draft(reminder),
        [reminder.organisation],
        actor=ACTOR,
        settings=alert_settings,
        now=now,
    )
    return await directory.record_reminder(session, reminder, created.alert.id, now)


class DirectoryReminders:
    """The loop that sends the directory's reminders (every
    SITCEN_DIRECTORY_REMINDER_INTERVAL_SECONDS, and at start)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        alert_settings: AlertSettings,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._policy = Policy.of(settings)
        self._alert_settings = alert_settings
        self._clock = clock
        self.sent = 0
        self.loop = Loop(
            "directory-reminders",
            self.step,
            poll_seconds=settings.directory_reminder_interval_seconds,
            set_aside=self._set_aside,
        )

    async def step(self) -> float | None:
        """Send what is owed now, each reminder in its own transaction: one that fails is
        tried again (and after a few attempts set aside) while the others go."""
        now = self._clock()
        async with self._sessions() as session:
            owed = await directory.reminders_due(session, self._policy, now)
        for reminder in owed:
            try:
                async with self._sessions() as session:
                    if not await send(session, reminder, self._alert_settings, now):
                        await session.rollback()
                        continue
                    await session.commit()
            except Exception as error:
                key = f"{reminder.kind.value} reminder of {reminder.organisation}"
                raise ItemFailed(key, reminder, error) from error
            self.sent += 1
            log.info(
                "directory: %s reminder sent to %s (due %s)",
                reminder.kind.value,
                reminder.organisation,
                reminder.due_at.isoformat(),
            )
        return None

    async def _set_aside(self, reminder: ReminderDue, error: BaseException, attempts: int) -> bool:
        """A reminder that cannot be sent is recorded as given up (no alert) with its error as
        a dead letter, so that the loop does not try it forever; the overdue report still shows
        the organisation to SITCEN, who follow it up by phone."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            if not await directory.record_reminder(session, reminder, None, now):
                return False
            item = f"{reminder.kind.value} reminder of {reminder.organisation}"
            await record_dead_letter(session, self.loop.name, item, error, attempts, now)
        return True
