"""Partner organisations: police zones, fire and medical service, STIB/MIVB, municipalities…"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain import organisations


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


async def require_organisation(session: AsyncSession, code: str) -> None:
    """422 naming `organisation` unless `code` names one."""
    await organisations.require_known(session, [code], ["body", "organisation"])
