"""The activation phases as administrators keep them: list, add, rename, reorder, deactivate,
and delete one no activation stands in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.activation import Activation, Code
from app.domain.activation_phases import ActivationPhase
from app.domain.actor import Actor
from app.domain.schema import Input
from app.errors import already_exists, conflict, not_found, validation_problem

Label = Annotated[str, Field(min_length=1, max_length=120)]
Order = Annotated[int, Field(ge=0, le=100_000)]


class PhaseIn(Input):
    code: Code
    order: Order
    label_fr: Label
    label_nl: Label
    label_en: Label
    active: bool = True


class PhasePatch(Input):
    order: Order | None = None
    label_fr: Label | None = None
    label_nl: Label | None = None
    label_en: Label | None = None
    active: bool | None = None


def phase_json(p: ActivationPhase) -> dict[str, Any]:
    return {
        "code": p.code,
        "order": p.order,
        "label_fr": p.label_fr,
        "label_nl": p.label_nl,
        "label_en": p.label_en,
        "active": p.active,
        "updated_at": p.updated_at.isoformat() if p.updated_at else None,
        "updated_by": p.updated_by,
    }


async def listing(session: AsyncSession, *, active_only: bool) -> list[ActivationPhase]:
    query = select(ActivationPhase).order_by(ActivationPhase.order, ActivationPhase.code)
    if active_only:
        query = query.where(ActivationPhase.active.is_(True))
    return list((await session.scalars(query)).all())


async def get(session: AsyncSession, code: str, *, for_update: bool = False) -> ActivationPhase:
    row = await session.get(ActivationPhase, code, with_for_update=for_update)
    if row is None:
        raise not_found("activation phase", code)
    return row


async def create(session: AsyncSession, body: PhaseIn, actor: Actor) -> ActivationPhase:
    if await session.get(ActivationPhase, body.code) is not None:
        raise already_exists(f"activation phase {body.code!r} exists")
    row = ActivationPhase(**body.model_dump(), updated_at=datetime.now(UTC), updated_by=actor.name)
    session.add(row)
    await session.flush()
    return row


async def change(
    session: AsyncSession, code: str, patch: PhasePatch, actor: Actor
) -> ActivationPhase:
    row = await get(session, code, for_update=True)
    given = patch.model_dump(exclude_unset=True)
    nulls = [k for k, v in given.items() if v is None]
    if nulls:
        raise validation_problem([{"loc": ["body", nulls[0]], "msg": "may not be null"}])
    for name, value in given.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by = datetime.now(UTC), actor.name
    await session.flush()
    return row


async def remove(session: AsyncSession, code: str) -> None:
    """Delete a phase no activation stands in; otherwise it is deactivated instead, so that
    those activations keep a phase the list still names."""
    row = await get(session, code, for_update=True)
    used = await session.scalar(
        select(func.count()).select_from(Activation).where(Activation.phase == code)
    )
    if used:
        raise conflict(
            f"activation phase {code!r} is the phase of {used} activation(s): "
            "deactivate it (active: false) instead"
        )
    await session.delete(row)
