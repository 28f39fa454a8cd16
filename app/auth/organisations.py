"""Partner organisations: police zones, fire and medical service, STIB/MIVB, municipalities…"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.errors import validation_problem


class OrganisationKind(StrEnum):
    police_zone = "police_zone"
    fire_medical = "fire_medical"
    public_transport = "public_transport"
    municipality = "municipality"
    regional_agency = "regional_agency"
    federal = "federal"
    other = "other"


class Organisation(Base):
    __tablename__ = "organisations"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_fr: Mapped[str] = mapped_column(String(200))
    name_nl: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


async def require_organisation(session: AsyncSession, code: str) -> Organisation:
    org = await session.get(Organisation, code)
    if org is None:
        known = (await session.scalars(select(Organisation.code).order_by(Organisation.code))).all()
        raise validation_problem(
            [{"loc": ["body", "organisation"], "msg": "unknown organisation"}],
            f"no organisation {code!r}" + (f"; known: {', '.join(known)}" if known else ""),
        )
    return org
