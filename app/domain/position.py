"""Positions of a GCC activation's crisis cell: a seat (the High Official, SITCEN's duty
officer, a discipline's representative, a partner's liaison…), who holds it (a user, or a
partner organisation's SPOC) and where that person is (expected, paged, present…)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import DateTime, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain import organisations, users
from app.domain.base import OperationalObject
from app.domain.enums import Discipline, Entity, PositionRole, Presence
from app.domain.schema import CommonProps, OrgCode, Props, Time, partial
from app.domain.spec import EntitySpec, Problems

Username = Annotated[str, Field(min_length=1, max_length=128)]

# Presence that means the holder has joined the cell, and so has an arrival time.
JOINED = frozenset({Presence.present, Presence.remote})


class Position(OperationalObject, Base):
    __tablename__ = "positions"
    linked_by = (("activation", "activation_id"),)

    activation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    role: Mapped[str] = mapped_column(String(32))
    discipline: Mapped[str | None] = mapped_column(String(4))
    holder_user: Mapped[str | None] = mapped_column(String(128))
    holder_organisation: Mapped[str | None] = mapped_column(String(64))
    presence: Mapped[str] = mapped_column(String(16))
    paged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PositionCreate(CommonProps):
    activation_id: uuid.UUID
    role: PositionRole
    discipline: Discipline | None = None
    holder_user: Username | None = None
    holder_organisation: OrgCode | None = None
    presence: Presence = Presence.expected
    paged_at: Time | None = None
    acknowledged_at: Time | None = None
    arrived_at: Time | None = None


class PresenceChange(Props):
    """A seat's presence as paging and the holder's answers move it (app.cell.paging)."""

    presence: Presence
    paged_at: Time | None = None
    acknowledged_at: Time | None = None


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    role = values.get("role")
    if role in Discipline.__members__:
        values["discipline"] = role  # a discipline's seat is that discipline's
    org = values.get("holder_organisation")
    if org and org not in (values.get("shared_with") or []):
        # The organisation holding a seat sees it: that is how its SPOC finds its place.
        values["shared_with"] = [*(values.get("shared_with") or []), org]
    if "presence" in changed:
        now = datetime.now(UTC)
        presence = values["presence"]
        if presence == Presence.paged and values.get("paged_at") is None:
            values["paged_at"] = now
        if presence == Presence.acknowledged and values.get("acknowledged_at") is None:
            values["acknowledged_at"] = now
        if presence in JOINED and values.get("arrived_at") is None:
            values["arrived_at"] = now


async def _verify(
    session: AsyncSession, values: dict[str, Any], changed: dict[str, Any]
) -> Problems:
    """A seat is held by someone who exists: a user who may log in, or a known organisation."""
    if changed.get("holder_user"):
        await users.require_known(
            session, changed["holder_user"], ["body", "properties", "holder_user"]
        )
    if changed.get("holder_organisation"):
        await organisations.require_known(
            session, [changed["holder_organisation"]], ["body", "properties", "holder_organisation"]
        )
    return []


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    if values.get("holder_user") and values.get("holder_organisation"):
        return [("holder_organisation", "a position is held by a user or by an organisation")]
    return []


SPEC = EntitySpec(
    entity=Entity.position,
    model=Position,
    path="positions",
    ref_prefix="POS",
    create_schema=PositionCreate,
    update_schema=partial(PositionCreate, exclude=("source", "external_id", "activation_id")),
    fields=(
        "activation_id",
        "role",
        "discipline",
        "holder_user",
        "holder_organisation",
        "presence",
        "paged_at",
        "acknowledged_at",
        "arrived_at",
    ),
    geometry_types=None,
    geometry_required=False,
    status_field="presence",
    status_enum=Presence,
    kind_field="role",
    kind_enum=PositionRole,
    check=_check,
    verify=_verify,
    derive=_derive,
    fixed_links={"activation_id": Entity.activation},
)
