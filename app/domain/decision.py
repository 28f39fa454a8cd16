"""Decisions of a GCC activation: what was decided, who decided it (the position and the
person), on what basis, when, and who recorded it. Written once, never changed nor deleted by
anyone; a correction is a new decision that names the one it corrects. Each activation's
decisions form a hash chain (app.domain.decision_chain) that shows any later rewrite."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import ARRAY, DateTime, Integer, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain import decision_chain
from app.domain.actor import Actor
from app.domain.base import OperationalObject
from app.domain.corrections import check_correction, mark_corrected
from app.domain.enums import Discipline, Entity
from app.domain.position import Position
from app.domain.schema import CommonProps, Time, Title
from app.domain.spec import EntitySpec
from app.errors import ProblemError, validation_problem

Name = Annotated[str, Field(min_length=1, max_length=200)]
Basis = Annotated[str, Field(min_length=1, max_length=10_000)]


class Decision(OperationalObject, Base):
    __tablename__ = "decisions"
    linked_by = (("activation", "activation_id"),)
    # The database's own guard of the chain, beside the lock that orders it.
    unique_by = (("chain", ("activation_id", "chain_seq")),)

    activation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by_position_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    decided_by_name: Mapped[str] = mapped_column(String(200))
    basis: Mapped[str | None] = mapped_column(Text)
    discipline: Mapped[str | None] = mapped_column(String(4))
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    corrected_by: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)
    chain_seq: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class DecisionCreate(CommonProps):
    title: Title
    activation_id: uuid.UUID
    decided_at: Time | None = None
    decided_by_position_id: uuid.UUID | None = None
    # The person who decided; by default the user holding the position named.
    decided_by_name: Name | None = None
    basis: Basis | None = None
    discipline: Discipline | None = None
    corrects_id: uuid.UUID | None = None


def _field(name: str, msg: str) -> ProblemError:
    return validation_problem([{"loc": ["body", "properties", name], "msg": msg}])


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    if values.get("decided_at") is None:
        values["decided_at"] = datetime.now(UTC)
    values["corrected_by"] = []


async def _before_insert(session: AsyncSession, values: dict[str, Any], actor: Actor) -> None:
    position_id = values.get("decided_by_position_id")
    if position_id is not None:
        position = await session.get(Position, position_id)
        if position is None or position.activation_id != values["activation_id"]:
            raise _field("decided_by_position_id", "not a position of this activation")
        if values.get("decided_by_name") is None:
            values["decided_by_name"] = position.holder_user
    if not values.get("decided_by_name"):
        raise _field(
            "decided_by_name",
            "who decided: give decided_by_name, or a position held by a user",
        )
    await check_correction(session, Decision, values, same=("activation_id",))
    await decision_chain.link(session, values)


async def _after_insert(session: AsyncSession, values: dict[str, Any]) -> None:
    await mark_corrected(session, Decision, values)


SPEC = EntitySpec(
    entity=Entity.decision,
    model=Decision,
    path="decisions",
    ref_prefix="DEC",
    create_schema=DecisionCreate,
    update_schema=DecisionCreate,  # never used: no PATCH for what is never changed
    fields=(
        "activation_id",
        "decided_at",
        "decided_by_position_id",
        "decided_by_name",
        "basis",
        "discipline",
        "corrects_id",
        "corrected_by",
        "chain_seq",
        "prev_hash",
        "hash",
    ),
    geometry_types=None,
    geometry_required=False,
    status_field=None,
    kind_field="discipline",
    kind_enum=Discipline,
    window=("decided_at", None),
    text_fields=("basis", "decided_by_name"),
    derive=_derive,
    fixed_links={
        "activation_id": Entity.activation,
        "decided_by_position_id": Entity.position,
        "corrects_id": Entity.decision,
    },
    append_only=True,
    before_insert=_before_insert,
    after_insert=_after_insert,
)
