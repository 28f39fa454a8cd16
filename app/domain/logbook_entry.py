"""Logbook entries: the watch's main-courante of notes, actions, decisions and communications,
and an activation's logbooks: the multidisciplinary one (`discipline` null) and one per
discipline (D1–D5), written by that discipline's members. Entries are never changed nor
deleted: a correction is a new entry naming the one it corrects, and an entry of a
discipline's logbook is promoted by copying it into the multidisciplinary one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import ARRAY, DateTime, String, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain import objects
from app.domain.actor import Actor
from app.domain.base import OperationalObject
from app.domain.corrections import check_correction, mark_corrected
from app.domain.enums import Discipline, Entity, LogbookKind
from app.domain.objects import Written
from app.domain.position import Position
from app.domain.schema import CommonProps, Time
from app.domain.spec import EntitySpec
from app.errors import conflict, forbidden, validation_problem

SUBJECTS = Literal["incident", "planned_event", "demonstration", "zone", "activation"]


class LogbookEntry(OperationalObject, Base):
    __tablename__ = "logbook_entries"
    linked_by = (("subject", "subject_id"), ("activation", "activation_id"))
    # An entry is promoted once (`promote` locks it; the database holds to it too).
    unique_by = (("promoted_from", ("promoted_from_id",)),)

    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    subject_entity: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    activation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    discipline: Mapped[str | None] = mapped_column(String(4))
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    corrected_by: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)
    promoted_from_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class LogbookEntryCreate(CommonProps):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=10_000)] | None = None
    kind: LogbookKind = LogbookKind.note
    occurred_at: Time | None = None
    subject_entity: SUBJECTS | None = None
    subject_id: uuid.UUID | None = None
    activation_id: uuid.UUID | None = None
    # None: the multidisciplinary logbook; d1…d5: that discipline's, in `activation_id`.
    discipline: Discipline | None = None
    corrects_id: uuid.UUID | None = None


class PromotedEntry(LogbookEntryCreate):
    """An entry copied into the multidisciplinary logbook (`promote`); not a client's body."""

    promoted_from_id: uuid.UUID


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    if values.get("occurred_at") is None:
        values["occurred_at"] = datetime.now(UTC)
    if values.get("subject_entity") == Entity.activation and values.get("activation_id") is None:
        values["activation_id"] = values.get("subject_id")  # a note on an activation is in it
    values["corrected_by"] = []


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    if (values.get("subject_entity") is None) != (values.get("subject_id") is None):
        problems.append(("subject_id", "subject_entity and subject_id go together"))
    if values.get("discipline") is not None and values.get("activation_id") is None:
        problems.append(("activation_id", "a discipline's logbook is an activation's"))
    return problems


async def is_member(
    session: AsyncSession, username: str, activation_id: uuid.UUID, discipline: str
) -> bool:
    """Whether this user holds the discipline's position in the activation: that makes them a
    member of its logbook."""
    held = await session.scalar(
        select(Position.id)
        .where(
            Position.activation_id == activation_id,
            Position.discipline == discipline,
            Position.holder_user == username,
        )
        .limit(1)
    )
    return held is not None


async def _before_insert(session: AsyncSession, values: dict[str, Any], actor: Actor) -> None:
    discipline = values.get("discipline")
    if discipline is not None and not await is_member(
        session, actor.name, values["activation_id"], discipline
    ):
        label = Discipline(discipline).value.upper()
        raise forbidden(
            f"only the members of {label} in this activation write in its logbook: "
            f"they hold its {label} position",
            action="logbook_entry:create",
        )
    await check_correction(session, LogbookEntry, values, same=("activation_id", "discipline"))


async def _after_insert(session: AsyncSession, values: dict[str, Any]) -> None:
    await mark_corrected(session, LogbookEntry, values)


def promoted_copy(entry: LogbookEntry) -> PromotedEntry:
    """What goes into the multidisciplinary logbook when a discipline's entry is promoted: the
    entry as written there (title, text, kind, time, subject), naming where it comes from."""
    if entry.discipline is None or entry.activation_id is None:
        raise validation_problem(
            [{"loc": ["path", "object_id"], "msg": f"{entry.ref} is not in a discipline's logbook"}]
        )
    return PromotedEntry(
        title=entry.title,
        description=entry.description,
        kind=LogbookKind(entry.kind),
        occurred_at=entry.occurred_at,
        subject_entity=entry.subject_entity,
        subject_id=entry.subject_id,
        activation_id=entry.activation_id,
        exercise=entry.exercise,
        promoted_from_id=entry.id,
    )


SPEC = EntitySpec(
    entity=Entity.logbook_entry,
    model=LogbookEntry,
    path="logbook",
    ref_prefix="LOG",
    create_schema=LogbookEntryCreate,
    update_schema=LogbookEntryCreate,  # never used: no PATCH for what is never changed
    fields=(
        "kind",
        "occurred_at",
        "subject_entity",
        "subject_id",
        "activation_id",
        "discipline",
        "corrects_id",
        "corrected_by",
        "promoted_from_id",
    ),
    geometry_types=None,
    geometry_required=False,
    status_field=None,
    kind_field="kind",
    kind_enum=LogbookKind,
    window=("occurred_at", None),
    check=_check,
    derive=_derive,
    links={"subject_id": "subject_entity"},
    fixed_links={
        "activation_id": Entity.activation,
        "corrects_id": Entity.logbook_entry,
        "promoted_from_id": Entity.logbook_entry,
    },
    append_only=True,
    # A note's title and text are the note itself: either may name a caller or a victim. The
    # facts kept are its kind, time, author, subject, activation and discipline.
    personal_fields=("title", "description"),
    before_insert=_before_insert,
    after_insert=_after_insert,
)


async def promote(session: AsyncSession, entry_id: uuid.UUID, actor: Actor) -> Written:
    """Copy a discipline's entry into its activation's multidisciplinary logbook, once. The
    entry is locked so that two promotions at once make one copy, and the second is told which."""
    entry = await objects.get(session, SPEC, entry_id, None, for_update=True)
    assert isinstance(entry, LogbookEntry)
    copy = promoted_copy(entry)
    earlier = await session.scalar(
        select(LogbookEntry.ref).where(LogbookEntry.promoted_from_id == entry.id)
    )
    if earlier is not None:
        raise conflict(
            f"{entry.ref} is already in the multidisciplinary logbook, as {earlier}",
            promoted_as=earlier,
        )
    return await objects.create(session, SPEC, copy, None, actor)
