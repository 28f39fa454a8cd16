"""A handover not acknowledged SITCEN_HANDOVER_ESCALATION_MINUTES (30) after its shift change is
escalated, once per shift change, to the duty officer.

Who the duty officer is, the code knows in two ways: the user holding the `duty_officer` seat
of a running GCC activation (app.domain.position), and the watch's own duty officer named by
SITCEN_HANDOVER_DUTY_OFFICER. The escalation is an alert raised to SITCEN through alerting, as
an overdue task owned by no organisation is (app.cell.overdue): no partner receives it, every
SITCEN dashboard gets it live on /ws and in the alerts panel, and its text names the duty
officers; the alert is its record (`/api/alerts?origin=handover`). It writes nothing to the
change feed: a background worker's write there would land in the middle of whatever the watch
is reading. Only the last shift change is looked at, from its deadline until the next shift
change; a handover acknowledged before the deadline is not escalated.

The clock is injected (`now`), so tests move time instead of waiting for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
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
from app.clock import Clock
from app.domain.activation import Activation
from app.domain.enums import ActivationStatus, HandoverStatus, PositionRole
from app.domain.position import Position
from app.reports.handover import ShiftPolicy, for_shift
from app.reports.models import Handover, HandoverEscalation
from app.reports.shifts import last_change, local_label

log = logging.getLogger(__name__)
ACTOR = "system:handover"
WORDS = {
    "fr": (
        "Relève non confirmée",
        "La relève de {change} n'est pas confirmée par l'équipe entrante",
        "Officier de permanence : {who}. Vérifiez la relève avec les équipes.",
    ),
    "nl": (
        "Overdracht niet bevestigd",
        "De overdracht van {change} is niet bevestigd door de inkomende ploeg",
        "Wachtofficier: {who}. Controleer de overdracht met de ploegen.",
    ),
    "en": (
        "Handover not acknowledged",
        "The {change} handover is not acknowledged by the incoming team",
        "Duty officer: {who}. Check the handover with the teams.",
    ),
}


@dataclass(frozen=True)
class Escalated:
    shift_end: datetime
    alert_id: object
    duty_officers: list[str]


async def duty_officers(session: AsyncSession, policy: ShiftPolicy) -> list[str]:
    """The watch's duty officer (the setting) and the holders of the duty officer seat of every
    running activation."""
    held = await session.scalars(
        select(Position.holder_user)
        .join(Activation, Activation.id == Position.activation_id)
        .where(
            Position.role == PositionRole.duty_officer,
            Position.holder_user.is_not(None),
            Activation.status != ActivationStatus.closed,
        )
    )
    named = [policy.duty_officer] if policy.duty_officer else []
    return list(dict.fromkeys([*named, *(u for u in held if u)]))


def _texts(change: datetime, state: str, officers: list[str]) -> Texts:
    texts: Texts = {}
    for lang, (event, headline, instruction) in WORDS.items():
        when = local_label(change)
        texts[lang] = {
            "headline": headline.format(change=when),
            "description": f"{headline.format(change=when)} ({state}).",
            "instruction": instruction.format(who=", ".join(officers) or "SITCEN"),
            "event": event,
        }
    return texts


def draft_for(change: datetime, row: Handover | None, officers: list[str]) -> AlertDraft:
    state = row.status if row is not None else "missing"
    texts = _texts(change, state, officers)
    return AlertDraft(
        status=CapStatus.Actual,
        msg_type=MsgType.Alert,
        severity=CapSeverity.Severe,
        urgency=Urgency.Immediate,
        certainty=Certainty.Observed,
        categories=[CapCategory.Other],
        event=texts["en"]["event"],
        texts=texts,
        area_desc=REGION,
        origin=Origin.handover,
        entity="handover",
        entity_id=row.id if row is not None else None,
        entity_ref=row.ref if row is not None else None,
    )


async def _claim(
    session: AsyncSession, change: datetime, now: datetime, officers: list[str]
) -> bool:
    """Record the escalation of a shift change, if nobody did: one per shift change, whatever
    two instances read (the primary key decides)."""
    claim = await session.execute(
        insert(HandoverEscalation)
        .values(shift_end=change, escalated_at=now, duty_officers=officers)
        .on_conflict_do_nothing()
        .returning(HandoverEscalation.shift_end)
    )
    return claim.first() is not None


async def escalate_unacknowledged(
    session: AsyncSession, policy: ShiftPolicy, settings: AlertSettings, now: datetime
) -> Escalated | None:
    """Escalate the last shift change, once its deadline passed, if its handover is not
    acknowledged and it was not escalated; what was done. Once the next shift change came, the
    one before is the past: its own escalation was due then."""
    change = last_change(now, policy.changes)
    if now < change + policy.escalate_after:
        return None
    row = await for_shift(session, change)
    if row is not None and row.status == HandoverStatus.acknowledged:
        return None
    if await session.get(HandoverEscalation, change) is not None:
        return None
    officers = await duty_officers(session, policy)
    if not await _claim(session, change, now, officers):
        return None
    try:
        draft = draft_for(change, row, officers)
        new = await create_alert(session, draft, [], actor=ACTOR, settings=settings, now=now)
        await session.execute(
            update(HandoverEscalation)
            .where(HandoverEscalation.shift_end == change)
            .values(alert_id=new.alert.id)
        )
    except Exception as error:
        raise ItemFailed(f"handover {local_label(change)}", change, error) from error
    return Escalated(change, new.alert.id, officers)


class HandoverEscalations:
    """The loop that escalates unacknowledged handovers, every SITCEN_HANDOVER_POLL_SECONDS."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        policy: ShiftPolicy,
        settings: AlertSettings,
        poll_seconds: float,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._policy = policy
        self._settings = settings
        self._clock = clock
        self.loop = Loop(
            "handover-escalation", self._step, poll_seconds=poll_seconds, set_aside=self._set_aside
        )

    async def _step(self) -> float | None:
        async with self._sessions() as session, session.begin():
            done = await escalate_unacknowledged(
                session, self._policy, self._settings, self._clock()
            )
        if done is not None:
            log.info(
                "handover of %s not acknowledged: escalated to %s",
                local_label(done.shift_end),
                ", ".join(done.duty_officers) or "SITCEN",
            )
        return None

    async def _set_aside(self, change: datetime, error: BaseException, attempts: int) -> bool:
        """A shift change whose escalation keeps failing is recorded as escalated without an
        alert, its error kept as a dead letter (/api/alerts/health) for the watch to see."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            if not await _claim(session, change, now, []):
                return False
            item = f"handover escalation {change.isoformat()}"
            await record_dead_letter(session, self.loop.name, item, error, attempts, now)
        return True
