"""Setting a threat level: the setting through the one write path and, in the same transaction,
the CAP alert to every partner organisation, so that no level is recorded without partners
being told, and no partner is told of a level that was not recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictInt
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.lifecycle import service as alerts
from app.alerts.models import Alert
from app.alerts.settings import AlertSettings
from app.domain import objects
from app.domain.actor import Actor
from app.domain.enums import Entity, ThreatSector
from app.domain.schema import Input
from app.domain.threat_level import (
    SPEC,
    Reason,
    Reference,
    Target,
    ThreatLevelCreate,
    key_of,
    normal_target,
    record_of,
    standing,
)
from app.domain.visibility import Scope
from app.errors import ProblemError, validation_problem
from app.threat import alerting


class ThreatLevelIn(Input):
    """POST /api/threat-level: a level OCAM/CUTA set, as SITCEN records it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    level: Annotated[
        StrictInt | None,
        Field(
            ge=1,
            le=4,
            description="1 low, 2 medium, 3 serious, 4 very serious; null lifts a sector's or "
            "target's own level (the general level then applies to it)",
        ),
    ]
    sector: ThreatSector | None = Field(None, description="a sector graded apart; none: general")
    target: Target | None = Field(None, description="a named target graded apart, free text")
    reason: Reason = Field(description="why OCAM/CUTA set it, as its assessment says")
    source_reference: Reference = Field(
        description="the OCAM/CUTA assessment or message it comes from, e.g. its reference"
    )


@dataclass
class Set:
    record: dict[str, Any]
    previous: dict[str, Any] | None
    alert: alerts.NewAlert | None


async def _alert_of(session: AsyncSession, record: dict[str, Any] | None) -> Alert | None:
    if record is None:
        return None
    found: Alert | None = await session.scalar(
        select(Alert)
        .where(Alert.entity == Entity.threat_level.value, Alert.entity_id == record["id"])
        .order_by(Alert.sent_at.desc())
        .limit(1)
    )
    return found


def _refused(msg: str) -> ProblemError:
    return validation_problem([{"loc": ["body", "level"], "msg": msg}])


async def set_level(
    session: AsyncSession,
    body: ThreatLevelIn,
    actor: Actor,
    settings: AlertSettings,
    now: datetime,
) -> Set:
    """Record the level and alert every partner with it, in the caller's transaction (the
    caller commits). 422 naming the field for a level that cannot be set (the general level
    lifted, a sector's level lifted that does not stand)."""
    # One setting at a time: each knows the one it replaces, and its alert updates that one's.
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('threat_level'))"))
    before = await standing(session, None, Scope())
    target = normal_target(body.target)
    key = key_of(body.sector, target)
    previous = before.general if key == "general" else before.by_key.get(key)
    if body.level is None:
        # The write path refuses these too (app.domain.threat_level), naming the field of a
        # Feature's properties; said here of this body's own field.
        if key == "general":
            raise _refused("the general level is changed, never lifted: give a level 1 to 4")
        if previous is None:
            raise _refused(f"no level of its own stands for {key} to lift")
    values = {"level": body.level, "sector": body.sector, "target": target}
    props = ThreatLevelCreate(
        title=alerting.title(values),
        **values,
        reason=body.reason,
        source_reference=body.source_reference,
    )
    written = await objects.create(session, SPEC, props, None, actor)
    record = record_of(written.feature)
    earlier = await _alert_of(session, previous)
    draft = alerting.draft(record, previous, earlier.id if earlier else None)
    organisations = await alerts.all_organisations(session)
    sent = None
    if organisations:
        sent = await alerts.create_alert(
            session, draft, organisations, actor=actor.name, settings=settings, now=now
        )
    return Set(record, previous, sent)
