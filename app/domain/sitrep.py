"""The situation report (SITREP): numbered per GCC activation (1, 2, 3…), or in the watch's
daily series outside activations. Its picture is generated from the change feed at a chosen time
(app.reports.sitrep) and kept apart, written once (`SitrepPicture`); the operator edits the free
text while it is a draft; approved by the coordinator or the High Official (who, when), it is
frozen: every later write is refused, and a new SITREP is the way forward.

A kind of the registry like the cell's other objects: one write path, its versions in the change
feed, and its audience by the share lists. The Feature holds the report's identity and free
text only; the picture, which holds objects a reader may not see, is read per reader
(app.reports.sitrep), never pushed whole on the feed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.base import OperationalObject
from app.domain.enums import Entity, Language, SitrepStatus, Visibility
from app.domain.schema import CommonProps, OrgCode, Props, Time, Title
from app.domain.schema import Text as FreeText
from app.domain.spec import EntitySpec, Problems
from app.errors import ProblemError, conflict

Series = Annotated[str, Field(min_length=1, max_length=64)]


class Sitrep(OperationalObject, Base):
    __tablename__ = "sitreps"
    linked_by = (("activation", "activation_id"),)
    # The database's own guard of the numbering, beside the lock that orders it.
    unique_by = (("number", ("series", "number")),)

    activation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # The activation's id, or `daily-YYYY` for the watch's daily series of a Brussels year.
    series: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    picture_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # What changed is told from here (the previous SITREP's picture, or the series' start).
    since_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    previous_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(16))
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2))


class SitrepPicture(Base):
    """A SITREP's picture as generated: written once with the SITREP, never updated; each
    reader gets the part of it they may see."""

    __tablename__ = "sitrep_pictures"

    sitrep_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sitreps.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)


class SitrepDraft(Props):
    """What a caller asks of a new SITREP (POST /api/sitreps): the rest is generated."""

    activation_id: uuid.UUID | None = None  # None: the watch's daily series
    picture_at: Time | None = None  # the picture at this time; by default now
    title: Title | None = None
    description: FreeText | None = None
    summary: FreeText | None = None
    next_steps: FreeText | None = None
    language: Language = Language.fr  # the language its free text is written in
    visibility: Visibility = Visibility.internal
    # None: the partner organisations holding a seat in the activation's cell.
    shared_with: Annotated[list[OrgCode], Field(max_length=50)] | None = None
    exercise: bool | None = None  # None: the activation's


class SitrepRecord(CommonProps):
    """A SITREP as written (app.reports.sitrep.generate): through the one write path."""

    activation_id: uuid.UUID | None = None
    series: Series
    number: int
    picture_at: datetime
    since_at: datetime
    previous_id: uuid.UUID | None = None
    status: SitrepStatus = SitrepStatus.draft
    summary: FreeText | None = None
    next_steps: FreeText | None = None
    language: Language = Language.fr


class SitrepEdit(Props):
    """What may change while it is a draft: its free text and its audience (PATCH)."""

    title: Title | None = None
    description: FreeText | None = None
    summary: FreeText | None = None
    next_steps: FreeText | None = None
    language: Language | None = None
    visibility: Visibility | None = None
    shared_with: Annotated[list[OrgCode], Field(max_length=50)] | None = None
    exercise: bool | None = None


class Approval(Props):
    """What approving writes (app.reports.sitrep.approve)."""

    status: SitrepStatus
    approved_by: str
    approved_at: Time


def frozen(what: str, approved_by: str | None, approved_at: datetime | None) -> ProblemError:
    when = approved_at.isoformat() if approved_at else "?"
    return conflict(
        f"{what} was approved by {approved_by} at {when}: it is frozen and never "
        "changes; generate a new SITREP to report what changed",
        approved_by=approved_by,
        approved_at=when,
    )


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    if values.get("status") is None:
        values["status"] = SitrepStatus.draft.value


async def _verify(
    session: AsyncSession, values: dict[str, Any], changed: dict[str, Any]
) -> Problems:
    # An approved SITREP is the record of what was reported: nothing of it changes, not even
    # its audience. Approving is the one write that sets the status, from a draft.
    if values.get("status") == SitrepStatus.approved and "status" not in changed:
        raise frozen(
            f"SITREP no. {values['number']} ({values['title']})",
            values.get("approved_by"),
            values.get("approved_at"),
        )
    return []


SPEC = EntitySpec(
    entity=Entity.sitrep,
    model=Sitrep,
    path="sitreps",
    ref_prefix="SIT",
    create_schema=SitrepRecord,
    update_schema=SitrepEdit,
    fields=(
        "activation_id",
        "series",
        "number",
        "picture_at",
        "since_at",
        "previous_id",
        "status",
        "approved_by",
        "approved_at",
        "summary",
        "next_steps",
        "language",
    ),
    geometry_types=None,
    geometry_required=False,
    status_enum=SitrepStatus,
    transitions={"status": {SitrepStatus.draft: frozenset({SitrepStatus.approved})}},
    initial={"status": frozenset({SitrepStatus.draft})},
    window=("picture_at", None),
    text_fields=("summary", "next_steps"),
    derive=_derive,
    verify=_verify,
    fixed_links={"activation_id": Entity.activation, "previous_id": Entity.sitrep},
    # Generated, not posted as a Feature; deleted only while a draft (app.reports.routes).
    own_routes=frozenset({"create", "delete"}),
)
