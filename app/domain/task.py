"""Tasks of the crisis cell: an action with an owner (a partner organisation, a position of the
cell, a user), a due time, a priority and a status, linked to the objects and zones it is about.

A task owned by an organisation is shared with that organisation and with no other: its SPOC
sees it, by every path, and reports its progress (`set_status`); reassigned, it leaves the
first organisation's sight. Nothing else shares a task (`visibility: shared` is refused)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import ColumnElement, DateTime, String, Text, column, exists, select, table
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain import objects, organisations
from app.domain.actor import Actor
from app.domain.base import OperationalObject
from app.domain.enums import Entity, TaskPriority, TaskStatus, Visibility
from app.domain.position import Position, Username
from app.domain.schema import CommonProps, Input, OrgCode, Props, Time, partial
from app.domain.schema import Text as LongText
from app.domain.spec import EntitySpec, Problems

# The statuses a task is still to be done in: an overdue one of these is escalated.
PENDING = frozenset({TaskStatus.open, TaskStatus.in_progress})
Reason = Annotated[str, Field(min_length=1, max_length=1000)]
_USERS = table("users", column("username"))
LOC: list[str | int] = ["body", "properties"]


class Task(OperationalObject, Base):
    __tablename__ = "tasks"
    linked_by = (("activation", "activation_id"), ("subject", "subject_id"))

    activation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    owner_organisation: Mapped[str | None] = mapped_column(String(64))
    owner_position_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    owner_user: Mapped[str | None] = mapped_column(String(128))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    status_note: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    subject_entity: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    zone_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)


def _internal(value: Visibility) -> Visibility:
    if value != Visibility.internal:
        raise PydanticCustomError(
            "task_visibility",
            "a task is seen by its owner organisation only, never shared with every partner: "
            "set owner_organisation",
        )
    return value


def _not_shared(value: list[str]) -> list[str]:
    if value:
        raise PydanticCustomError(
            "task_shared_with",
            "a task is shared with its owner organisation and no other: set owner_organisation",
        )
    return value


class TaskCreate(CommonProps):
    visibility: Annotated[Visibility, AfterValidator(_internal)] = Visibility.internal
    shared_with: Annotated[list[OrgCode], AfterValidator(_not_shared)] = []
    activation_id: uuid.UUID | None = None
    owner_organisation: OrgCode | None = None
    owner_position_id: uuid.UUID | None = None
    owner_user: Username | None = None
    due_at: Time | None = None
    priority: TaskPriority = TaskPriority.normal
    status: TaskStatus = TaskStatus.open
    blocked_reason: Reason | None = None
    status_note: LongText | None = None
    subject_entity: Entity | None = None
    subject_id: uuid.UUID | None = None
    zone_ids: Annotated[list[uuid.UUID], Field(max_length=100)] = []


# Every field optional: what a PATCH, or a status report, leaves unset stays as it is.
TaskPatch = partial(TaskCreate, exclude=("source", "external_id", "activation_id"))


class TaskStatusChange(Props, Input):
    """What the owner of a task reports: its new status, why it is blocked, a note."""

    status: TaskStatus
    blocked_reason: Reason | None = None
    note: LongText | None = None


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    org = values.get("owner_organisation")
    # Its owner organisation, and only it, sees the task: reassigned, the previous one no
    # longer does (app.domain.visibility.Scope reads shared_with).
    values["shared_with"] = [org] if org else []
    values["zone_ids"] = list(dict.fromkeys(values.get("zone_ids") or []))
    if "status" in changed:
        status = values["status"]
        if status != TaskStatus.blocked and "blocked_reason" not in changed:
            values["blocked_reason"] = None  # the reason went with the block
        if "status_note" not in changed:
            values["status_note"] = None  # a note speaks of the status change it came with
        if status == TaskStatus.done:
            values["done_at"] = values.get("done_at") or datetime.now(UTC)
        else:
            values["done_at"] = None


def _check(values: dict[str, Any]) -> Problems:
    problems: Problems = []
    blocked = values.get("status") == TaskStatus.blocked
    if blocked and not values.get("blocked_reason"):
        problems.append(("blocked_reason", "a blocked task says why: give blocked_reason"))
    if values.get("blocked_reason") and not blocked:
        problems.append(("blocked_reason", "only a blocked task has a blocked_reason"))
    if (values.get("subject_entity") is None) != (values.get("subject_id") is None):
        problems.append(("subject_id", "subject_entity and subject_id go together"))
    return problems


async def _verify(
    session: AsyncSession, values: dict[str, Any], changed: dict[str, Any]
) -> Problems:
    """The owner belongs to the task's cell, and its zones exist. Asked when they change only:
    a status report is not refused because a zone was deleted since the task was assigned."""
    problems: Problems = []
    activation = values.get("activation_id")
    owner_fields = ("activation_id", "owner_organisation", "owner_position_id", "owner_user")
    if any(f in changed for f in owner_fields):
        org = values.get("owner_organisation")
        if org and activation is None:
            await organisations.require_known(session, [org], [*LOC, "owner_organisation"])
        if org and activation is not None:
            seated = await session.scalar(
                select(
                    exists().where(
                        Position.activation_id == activation, Position.holder_organisation == org
                    )
                )
            )
            if not seated:
                problems.append(
                    (
                        "owner_organisation",
                        f"organisation {org!r} holds no position in the activation's cell: "
                        "give it a position first",
                    )
                )
        position_id = values.get("owner_position_id")
        if position_id is not None:
            position = await session.get(Position, position_id)
            if position is None or position.activation_id != activation:
                problems.append(
                    ("owner_position_id", f"no position {position_id} in the task's activation")
                )
        user = values.get("owner_user")
        if user:
            known = await session.scalar(select(exists().where(_USERS.c.username == user)))
            if not known:
                problems.append(("owner_user", f"no user {user!r}"))
    return problems


SPEC = EntitySpec(
    entity=Entity.task,
    model=Task,
    path="tasks",
    ref_prefix="TSK",
    create_schema=TaskCreate,
    update_schema=TaskPatch,
    fields=(
        "activation_id",
        "owner_organisation",
        "owner_position_id",
        "owner_user",
        "due_at",
        "priority",
        "status",
        "blocked_reason",
        "status_note",
        "done_at",
        "subject_entity",
        "subject_id",
        "zone_ids",
    ),
    geometry_types=None,
    geometry_required=False,
    status_enum=TaskStatus,
    kind_field="priority",
    kind_enum=TaskPriority,
    transitions={
        "status": {
            TaskStatus.open: frozenset(
                {TaskStatus.in_progress, TaskStatus.blocked, TaskStatus.done, TaskStatus.cancelled}
            ),
            TaskStatus.in_progress: frozenset(
                {TaskStatus.open, TaskStatus.blocked, TaskStatus.done, TaskStatus.cancelled}
            ),
            TaskStatus.blocked: frozenset(
                {TaskStatus.open, TaskStatus.in_progress, TaskStatus.done, TaskStatus.cancelled}
            ),
            # Reopened when it turns out not to be done, or needed after all.
            TaskStatus.done: frozenset({TaskStatus.open, TaskStatus.in_progress}),
            TaskStatus.cancelled: frozenset({TaskStatus.open}),
        }
    },
    initial={"status": frozenset({TaskStatus.open, TaskStatus.in_progress, TaskStatus.blocked})},
    # Cancelling is the decision of whoever assigned the task (`task:close`); its owner marks it
    # done, blocked or in progress.
    closing=frozenset({TaskStatus.cancelled}),
    window=("due_at", None),
    text_fields=("blocked_reason", "status_note"),
    check=_check,
    verify=_verify,
    derive=_derive,
    links={"subject_id": "subject_entity"},
    # The owner's position is checked by _verify, when the owner changes only.
    fixed_links={"activation_id": Entity.activation},
    many_links={"zone_ids": Entity.zone},
)


async def set_status(
    session: AsyncSession,
    task_id: uuid.UUID,
    change: TaskStatusChange,
    expected_version: int,
    actor: Actor,
    scope: ColumnElement[bool] | None,
) -> objects.Written:
    """The owner's report: only the status, its blocked reason and a note change, through the
    one write path (same transitions, same optimistic locking, same change record). `scope`
    keeps a partner to its own tasks: another organisation's answers 404, as an unknown one."""
    patch = TaskPatch.model_validate(
        {
            "status": change.status,
            "blocked_reason": change.blocked_reason,
            "status_note": change.note,
        }
    )
    return await objects.update(session, SPEC, task_id, patch, None, expected_version, actor, scope)
