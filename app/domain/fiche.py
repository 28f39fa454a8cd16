"""The operational fiche of a planned event or a GCC activation: each entity's role and
responsibilities, how to reach it (phone, radio talk-group), its seat in the cell, and the zones
and time window it answers for. Drafted before the event, versioned like any object, approved
by the coordinator or the High Official; changed after its approval, it is a draft again.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)
from sqlalchemy import DateTime, String, select
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain import organisations
from app.domain.base import OperationalObject
from app.domain.enums import Discipline, Entity, FicheStatus, Language
from app.domain.features import plain
from app.domain.position import Position
from app.domain.schema import CommonProps, OrgCode, Props, Short, Time, partial
from app.domain.spec import EntitySpec, Problems
from app.domain.zone import Zone
from app.errors import validation_problem

Phone = Annotated[str, Field(min_length=3, max_length=40, pattern=r"^\+?[0-9 ./()\-]+$")]
Talkgroup = Annotated[str, Field(min_length=1, max_length=64)]
Responsibilities = Annotated[str, Field(min_length=1, max_length=5000)]
MAX_ENTRIES = 100
# What the fiche says: changed after its approval, the fiche is a draft again. Sharing it or
# marking it an exercise changes who reads it, not what was approved.
CONTENT = frozenset(
    {"title", "description", "entries", "language", "activation_id", "subject_entity", "subject_id"}
)


class FicheEntry(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, validate_by_name=True, serialize_by_alias=True
    )

    organisation: OrgCode
    discipline: Discipline | None = None
    role: Short
    responsibilities: Responsibilities
    phone: Phone | None = None
    radio_talkgroup: Talkgroup | None = None
    position_id: uuid.UUID | None = None
    zone_ids: Annotated[list[uuid.UUID], Field(max_length=50)] = []
    from_: Time | None = Field(default=None, alias="from")
    to: Time | None = None

    @model_serializer(mode="wrap")
    def _stored(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # As stored and published (UTC times, ids as text): a PATCH that sends an entry back
        # unchanged changes nothing, and so does not withdraw an approval.
        return _entry_record(handler(self))


class Fiche(OperationalObject, Base):
    __tablename__ = "fiches"
    linked_by = (("activation", "activation_id"), ("subject", "subject_id"))

    activation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    subject_entity: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16))
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    language: Mapped[str] = mapped_column(String(2))


class FicheCreate(CommonProps):
    activation_id: uuid.UUID | None = None
    subject_entity: Literal["incident", "planned_event", "demonstration"] | None = None
    subject_id: uuid.UUID | None = None
    entries: Annotated[list[FicheEntry], Field(max_length=MAX_ENTRIES)] = []
    language: Language = Language.fr  # the language its free text is written in


class Approval(Props):
    """What approving writes (app.cell.fiches.approve), through the one write path."""

    status: FicheStatus
    approved_by: str
    approved_at: datetime


def _entry_record(entry: Any) -> dict[str, Any]:
    raw = dict(entry)
    raw.setdefault("from", raw.pop("from_", None))
    record = {k: plain(v) for k, v in raw.items()}
    record["zone_ids"] = [str(z) for z in raw.get("zone_ids") or []]
    return record


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    values["entries"] = [_entry_record(e) for e in values.get("entries") or []]
    if values.get("status") is None:
        values["status"] = FicheStatus.draft.value
    if "status" not in changed and CONTENT & changed.keys():
        # An approval covers what was approved: a changed fiche needs approving again.
        values["status"] = FicheStatus.draft.value
        values["approved_by"] = None
        values["approved_at"] = None


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    if (values.get("subject_entity") is None) != (values.get("subject_id") is None):
        problems.append(("subject_id", "subject_entity and subject_id go together"))
    if values.get("activation_id") is None and values.get("subject_id") is None:
        problems.append(("subject_id", "a fiche is for a planned event or an activation"))
    for n, entry in enumerate(values.get("entries") or []):
        start, end = entry.get("from"), entry.get("to")
        if start and end and datetime.fromisoformat(end) <= datetime.fromisoformat(start):
            problems.append((f"entries.{n}.to", "must be after from"))
    return problems


async def _verify(
    session: AsyncSession, values: dict[str, Any], changed: dict[str, Any]
) -> Problems:
    """Every organisation, zone and position an entry names exists."""
    for n, entry in enumerate(values.get("entries") or []):
        where: list[str | int] = ["body", "properties", "entries", n]
        await organisations.require_known(
            session, [entry["organisation"]], [*where, "organisation"]
        )
        for model, field, ids in (
            (Zone, "zone_ids", entry.get("zone_ids") or []),
            (Position, "position_id", [entry["position_id"]] if entry.get("position_id") else []),
        ):
            if not ids:
                continue
            wanted = {uuid.UUID(i) for i in ids}
            found = set((await session.scalars(select(model.id).where(model.id.in_(wanted)))).all())
            missing = sorted(str(i) for i in wanted - found)
            if missing:
                label = "zone" if model is Zone else "position"
                raise validation_problem(
                    [{"loc": [*where, field], "msg": f"no {label} with id {missing[0]}"}]
                )
    return []


SPEC = EntitySpec(
    entity=Entity.fiche,
    model=Fiche,
    path="fiches",
    ref_prefix="FIC",
    create_schema=FicheCreate,
    update_schema=partial(FicheCreate),
    fields=(
        "activation_id",
        "subject_entity",
        "subject_id",
        "entries",
        "status",
        "approved_by",
        "approved_at",
        "language",
    ),
    geometry_types=None,
    geometry_required=False,
    status_enum=FicheStatus,
    check=_check,
    derive=_derive,
    verify=_verify,
    links={"subject_id": "subject_entity"},
    fixed_links={"activation_id": Entity.activation},
)
