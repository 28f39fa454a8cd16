"""Logbook entries: the watch's main-courante of notes, actions, decisions and communications."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import DateTime, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.base import OperationalObject
from app.domain.enums import Entity, LogbookKind
from app.domain.schema import CommonProps, Time, partial
from app.domain.spec import EntitySpec

SUBJECTS = Literal["incident", "planned_event", "demonstration", "zone", "activation"]


class LogbookEntry(OperationalObject, Base):
    __tablename__ = "logbook_entries"
    linked_by = (("subject", "subject_id"),)

    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    subject_entity: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class LogbookEntryCreate(CommonProps):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=10_000)] | None = None
    kind: LogbookKind = LogbookKind.note
    occurred_at: Time | None = None
    subject_entity: SUBJECTS | None = None
    subject_id: uuid.UUID | None = None


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    if values.get("occurred_at") is None:
        values["occurred_at"] = datetime.now(UTC)


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    if (values.get("subject_entity") is None) != (values.get("subject_id") is None):
        return [("subject_id", "subject_entity and subject_id go together")]
    return []


SPEC = EntitySpec(
    entity=Entity.logbook_entry,
    model=LogbookEntry,
    path="logbook",
    ref_prefix="LOG",
    create_schema=LogbookEntryCreate,
    update_schema=partial(LogbookEntryCreate),
    fields=("kind", "occurred_at", "subject_entity", "subject_id"),
    geometry_types=None,
    geometry_required=False,
    status_field=None,
    kind_field="kind",
    kind_enum=LogbookKind,
    window=("occurred_at", None),
    check=_check,
    derive=_derive,
    links={"subject_id": "subject_entity"},
)
