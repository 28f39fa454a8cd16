"""The phases of a GCC activation (pre-alert, coordination, management, recovery…): the crisis
centre's own list, kept by administrators, that an activation's `phase` is checked against."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.errors import validation_problem


class ActivationPhase(Base):
    __tablename__ = "activation_phases"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    order: Mapped[int] = mapped_column(Integer)
    label_fr: Mapped[str] = mapped_column(String(120))
    label_nl: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(120))
    # An inactive phase is kept for the activations that went through it, and offered no more.
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[str] = mapped_column(String(128))


async def active_phases(session: AsyncSession) -> list[ActivationPhase]:
    query = select(ActivationPhase).where(ActivationPhase.active.is_(True))
    return list((await session.scalars(query.order_by(ActivationPhase.order))).all())


async def require_active(session: AsyncSession, code: str, loc: list[str | int]) -> str:
    """The code, if it names an active phase; else 422 naming `loc` and the phases offered."""
    offered = [p.code for p in await active_phases(session)]
    if code not in offered:
        raise validation_problem(
            [{"loc": loc, "msg": f"unknown phase {code!r}; one of {', '.join(offered)}"}]
        )
    return code


async def first_phase(session: AsyncSession) -> str | None:
    """Where a new activation starts: the first active phase, if any is kept."""
    phases = await active_phases(session)
    return phases[0].code if phases else None
