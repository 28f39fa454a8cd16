"""Evaluation notes on drug hotspots: what the local task force or the Public Order service
found, on a given date, by a named author. Written once, never changed nor deleted; a
correction is a new note naming the one it corrects (app.domain.corrections), so the fiche
shows both and who wrote each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import DateTime, Index, String, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.actor import Actor
from app.domain.base import OperationalObject
from app.domain.corrections import check_correction, mark_corrected
from app.domain.enums import Entity, ZoneKind
from app.domain.schema import CommonProps, Time
from app.domain.spec import EntitySpec, Problems
from app.domain.zone import Zone

Author = Annotated[str, Field(min_length=1, max_length=200)]


class HotspotNote(OperationalObject, Base):
    __tablename__ = "hotspot_notes"

    zone_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)
    noted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    author: Mapped[str] = mapped_column(String(200))
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    corrected_by: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)


# A fiche asks for the hotspot notes of one zone (`zone_ids @> ARRAY[id]`).
Index("ix_hotspot_notes_zones", HotspotNote.zone_ids, postgresql_using="gin")


class HotspotNoteCreate(CommonProps):
    # The hotspots it evaluates: one, or several when it speaks of a displacement between them.
    zone_ids: Annotated[list[uuid.UUID], Field(max_length=17)] = []
    noted_at: Time | None = None  # the evaluation's date; by default now
    author: Author | None = None  # who evaluated; by default whoever records the note
    corrects_id: uuid.UUID | None = None


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    if values.get("noted_at") is None:
        values["noted_at"] = datetime.now(UTC)
    values["zone_ids"] = list(dict.fromkeys(values.get("zone_ids") or []))
    values["corrected_by"] = []


async def _verify(
    session: AsyncSession, values: dict[str, Any], changed: dict[str, Any]
) -> Problems:
    ids = values.get("zone_ids") or []
    if not ids:
        return []
    kinds = dict((await session.execute(select(Zone.id, Zone.kind).where(Zone.id.in_(ids)))).all())
    others = [i for i in ids if kinds.get(i) != ZoneKind.hotspot]
    if others:
        return [("zone_ids", f"zone {others[0]} is not a hotspot")]
    return []


async def _before_insert(session: AsyncSession, values: dict[str, Any], actor: Actor) -> None:
    if not values.get("author"):
        values["author"] = actor.name
    await check_correction(session, HotspotNote, values, same=())


async def _after_insert(session: AsyncSession, values: dict[str, Any]) -> None:
    await mark_corrected(session, HotspotNote, values)


SPEC = EntitySpec(
    entity=Entity.hotspot_note,
    model=HotspotNote,
    path="hotspot_notes",
    ref_prefix="HSN",
    create_schema=HotspotNoteCreate,
    update_schema=HotspotNoteCreate,  # never used: no PATCH for what is never changed
    fields=("zone_ids", "noted_at", "author", "corrects_id", "corrected_by"),
    geometry_types=None,
    geometry_required=False,
    status_field=None,
    window=("noted_at", None),
    text_fields=("author",),
    derive=_derive,
    verify=_verify,
    fixed_links={"corrects_id": Entity.hotspot_note},
    many_links={"zone_ids": Entity.zone},
    append_only=True,
    before_insert=_before_insert,
    after_insert=_after_insert,
)
