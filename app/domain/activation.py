"""GCC activations: the Regional Crisis Centre opened for an incident or an event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import ARRAY, DateTime, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.activation_phases import first_phase, require_active
from app.domain.base import OperationalObject
from app.domain.enums import ActivationLevel, ActivationStatus, Coordinator, Entity
from app.domain.schema import CommonProps, Props, Time, partial
from app.domain.spec import EntitySpec, Problems

Member = Annotated[str, Field(min_length=1, max_length=120)]
# A code of the admin-kept lists (phases, templates): checked against them when written.
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")]
TemplateCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class Activation(OperationalObject, Base):
    __tablename__ = "activations"

    level: Mapped[str] = mapped_column(String(16))
    coordinator: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    subject_entity: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    members: Mapped[list[str]] = mapped_column(ARRAY(String(120)), default=list)
    # Where the activation stands (activation_phases), and why it got there: changed only by
    # the phase action, so that every change says why (app.cell.workflow).
    phase: Mapped[str | None] = mapped_column(String(32))
    phase_reason: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(64))  # the template it was opened from
    # What went well, what to improve, the follow-ups: recorded when it is closed.
    debrief: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class ActivationCreate(CommonProps):
    level: ActivationLevel
    coordinator: Coordinator = Coordinator.sitcen
    status: ActivationStatus = ActivationStatus.open
    opened_at: Time | None = None
    closed_at: Time | None = None
    subject_entity: Literal["incident", "planned_event", "demonstration"] | None = None
    subject_id: uuid.UUID | None = None
    members: Annotated[list[Member], Field(max_length=100)] = []
    phase: Code | None = None  # None: the first active phase


class ActivationOpening(ActivationCreate):
    """An activation opened from a template (app.cell.workflow), which it names."""

    template: TemplateCode | None = None


class PhaseChange(Props):
    phase: Code
    phase_reason: Reason


class Closing(Props):
    status: ActivationStatus
    debrief: dict[str, Any]


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    if values.get("opened_at") is None:
        values["opened_at"] = now
    if "status" in changed:
        if values["status"] == ActivationStatus.closed and values.get("closed_at") is None:
            values["closed_at"] = now
        elif values["status"] == ActivationStatus.open and "closed_at" not in changed:
            values["closed_at"] = None


async def _verify(
    session: AsyncSession, values: dict[str, Any], changed: dict[str, Any]
) -> Problems:
    if "phase" not in changed:
        return []
    if values.get("phase") is None:
        values["phase"] = await first_phase(session)
    else:
        await require_active(session, values["phase"], ["body", "properties", "phase"])
    return []


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    if values.get("closed_at") and values["closed_at"] < values["opened_at"]:
        problems.append(("closed_at", "must not be before opened_at"))
    if (values.get("subject_entity") is None) != (values.get("subject_id") is None):
        problems.append(("subject_id", "subject_entity and subject_id go together"))
    return problems


SPEC = EntitySpec(
    entity=Entity.activation,
    model=Activation,
    path="activations",
    ref_prefix="GCC",
    create_schema=ActivationCreate,
    update_schema=partial(ActivationCreate, exclude=("source", "external_id", "phase")),
    fields=(
        "level",
        "coordinator",
        "status",
        "opened_at",
        "closed_at",
        "subject_entity",
        "subject_id",
        "members",
        "phase",
        "phase_reason",
        "template",
        "debrief",
    ),
    geometry_types=None,
    geometry_required=False,
    status_enum=ActivationStatus,
    kind_field="level",
    kind_enum=ActivationLevel,
    transitions={
        "status": {
            ActivationStatus.open: frozenset({ActivationStatus.closed}),
            ActivationStatus.closed: frozenset({ActivationStatus.open}),
        }
    },
    initial={"status": frozenset({ActivationStatus.open})},
    closing=frozenset({ActivationStatus.closed}),
    window=("opened_at", "closed_at"),
    check=_check,
    verify=_verify,
    derive=_derive,
    links={"subject_id": "subject_entity"},
)
