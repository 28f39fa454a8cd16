"""A GCC activation as a workflow: opened (from an incident, a planned event, a demonstration
or on its own, with or without a template), moved from phase to phase with a reason, closed
with a debrief. Every step is an object write (app.domain.objects): in the change feed, with
who, when and why."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cell import templates
from app.db import driver
from app.domain import activation as activation_kind
from app.domain import activation_phases, objects, organisations
from app.domain import position as position_kind
from app.domain.activation import (
    Activation,
    ActivationOpening,
    Closing,
    Code,
    Member,
    PhaseChange,
    Reason,
    TemplateCode,
)
from app.domain.actor import Actor
from app.domain.enums import ActivationLevel, ActivationStatus, Coordinator, Entity, Visibility
from app.domain.features import to_feature
from app.domain.objects import Written
from app.domain.position import Position
from app.domain.registry import BY_ENTITY
from app.domain.schema import Input, OrgCode, Text, Time, Title
from app.domain.task import SPEC as TASK
from app.domain.task import TaskCreate
from app.domain.visibility import Scope
from app.errors import ProblemError, conflict, validation_problem

SPEC = activation_kind.SPEC


class OpenIn(Input):
    """An activation to open: from a template (its level and positions), about a subject."""

    title: Title
    template: TemplateCode | None = None
    level: ActivationLevel | None = None  # the template's when not given
    coordinator: Coordinator = Coordinator.sitcen
    phase: Code | None = None  # the first active phase when not given
    subject_entity: Literal["incident", "planned_event", "demonstration"] | None = None
    subject_id: uuid.UUID | None = None
    description: Text | None = None
    visibility: Visibility = Visibility.internal
    shared_with: Annotated[list[OrgCode], Field(max_length=50)] = []
    exercise: bool = False
    members: Annotated[list[Member], Field(max_length=100)] = []


class PhaseIn(Input):
    phase: Code
    reason: Reason


class FollowUp(Input):
    title: Title
    owner_organisation: OrgCode | None = None
    due_at: Time | None = None


class CloseIn(Input):
    went_well: Text = ""
    to_improve: Text = ""
    follow_up: Annotated[list[FollowUp], Field(max_length=100)] = []


@dataclass
class Opened:
    activation: Written
    positions: list[Written]


def _problem(loc: list[str | int], msg: str) -> ProblemError:
    return validation_problem([{"loc": loc, "msg": msg}])


async def _require_visible_subject(
    session: AsyncSession, entity: str, subject_id: uuid.UUID, scope: Scope
) -> None:
    """The subject exists and the opener sees it; hidden and unknown answer alike."""
    spec = BY_ENTITY[Entity(entity)]
    try:
        await objects.get(session, spec, subject_id, scope.clause(spec.model))
    except ProblemError:
        raise _problem(["body", "subject_id"], f"no {spec.label} with id {subject_id}") from None


async def _seats_of(session: AsyncSession, activation_id: uuid.UUID) -> list[Written]:
    query = select(Position).where(Position.activation_id == activation_id)
    rows = (await session.scalars(query.order_by(Position.id))).all()
    spec = position_kind.SPEC
    return [Written(r.id, r.version, to_feature(spec, r), created=False) for r in rows]


async def open_activation(
    session: AsyncSession,
    body: OpenIn,
    actor: Actor,
    scope: Scope,
    *,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
) -> Opened:
    """Open an activation and create its template's positions, in one transaction. Sent again
    with the same Idempotency-Key: the first activation and its positions, nothing new."""
    await driver(session)  # begun now: the activation and its seats commit together
    template = None
    if body.template is not None:
        template = await templates.require_active(session, body.template, ["body", "template"])
    level = body.level or (template.level if template else None)
    if level is None:
        raise _problem(["body", "level"], "give a level, or a template that has one")
    if (body.subject_entity is None) != (body.subject_id is None):
        raise _problem(["body", "subject_id"], "subject_entity and subject_id go together")
    if body.subject_entity is not None and body.subject_id is not None:
        await _require_visible_subject(session, body.subject_entity, body.subject_id, scope)
    if body.phase is not None:
        await activation_phases.require_active(session, body.phase, ["body", "phase"])
    await organisations.require_known(session, body.shared_with, ["body", "shared_with"])
    props = ActivationOpening(
        **body.model_dump(exclude={"template", "level"}),
        level=level,
        template=template.code if template else None,
    )
    written = await objects.create(
        session, SPEC, props, None, actor, idempotency_key=idempotency_key, fingerprint=fingerprint
    )
    if not written.created:
        return Opened(written, await _seats_of(session, written.id))
    positions: list[Written] = []
    if template is not None:
        row = await session.get(Activation, written.id)
        assert row is not None  # written just now, in this transaction
        positions = await templates.apply_template(session, template, row, actor)
    return Opened(written, positions)


async def change_phase(
    session: AsyncSession,
    activation_id: uuid.UUID,
    body: PhaseIn,
    expected_version: int,
    actor: Actor,
    scope: Scope,
) -> Written:
    """Move an open activation to another active phase, saying why; one of two concurrent
    changes from the same version wins, the other is told the version moved (412)."""
    row = await objects.get(session, SPEC, activation_id, scope.clause(Activation), for_update=True)
    await activation_phases.require_active(session, body.phase, ["body", "phase"])
    if row.version != expected_version:
        raise objects.stale(SPEC, row, expected_version)
    assert isinstance(row, Activation)
    if row.status == ActivationStatus.closed:
        raise conflict(f"activation {row.ref} is closed: reopen it to change its phase")
    if row.phase == body.phase:
        raise conflict(f"activation {row.ref} is already in phase {body.phase}")
    patch = PhaseChange(phase=body.phase, phase_reason=body.reason)
    return await objects.update(
        session, SPEC, row.id, patch, None, expected_version, actor, scope.clause(Activation)
    )


async def follow_ups(
    session: AsyncSession, activation: Activation, items: list[FollowUp], actor: Actor
) -> list[dict[str, Any]]:
    """The follow-ups of a debrief as the debrief keeps them: each becomes a task of the
    activation, in the closing transaction (so its owner is checked as any task's: a known
    organisation holding a seat in the cell), and the debrief keeps its `task_id`."""
    out = []
    for i, item in enumerate(items):
        props = TaskCreate(
            title=item.title,
            activation_id=activation.id,
            owner_organisation=item.owner_organisation,
            due_at=item.due_at,
            subject_entity=Entity.activation,
            subject_id=activation.id,
        )
        try:
            written = await objects.create(session, TASK, props, None, actor)
        except ProblemError as problem:
            raise _in_follow_up(problem, i) from None
        out.append(
            {
                "task_id": str(written.id),
                "title": item.title,
                "owner_organisation": item.owner_organisation,
                "due_at": item.due_at.astimezone(UTC).isoformat() if item.due_at else None,
            }
        )
    return out


def _in_follow_up(problem: ProblemError, index: int) -> ProblemError:
    """A task's problem, named where the client wrote it: the debrief's follow-up `index`."""
    if not problem.errors:
        return problem
    errors = [{**e, "loc": ["body", "follow_up", index, *e["loc"][2:]]} for e in problem.errors]
    return validation_problem(errors)


async def close_with_debrief(
    session: AsyncSession,
    activation_id: uuid.UUID,
    body: CloseIn,
    expected_version: int,
    actor: Actor,
    scope: Scope,
) -> Written:
    """Close an open activation and keep its debrief on it (in its history too)."""
    row = await objects.get(session, SPEC, activation_id, scope.clause(Activation), for_update=True)
    assert isinstance(row, Activation)
    if row.version != expected_version:
        raise objects.stale(SPEC, row, expected_version)
    if row.status == ActivationStatus.closed:
        raise conflict(f"activation {row.ref} is already closed")
    debrief = {
        "went_well": body.went_well,
        "to_improve": body.to_improve,
        "follow_up": await follow_ups(session, row, body.follow_up, actor),
        "recorded_by": actor.name,
        "recorded_at": datetime.now(UTC).isoformat(),
    }
    patch = Closing(status=ActivationStatus.closed, debrief=debrief)
    return await objects.update(
        session, SPEC, row.id, patch, None, expected_version, actor, scope.clause(Activation)
    )
