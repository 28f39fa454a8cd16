"""Emergency and intervention plans: the Region's general plan, special plans for a site, an
event or a risk, the disciplines' intervention plans and sites' internal plans. A plan is
linked to its zones (and opened from them on the map) and names the people and services to
call by their entries in the contact directory (app.partners.directory): it holds their ids,
never a copy of their numbers, so that it never shows a stale one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import DateTime, String, column, select, table
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.base import OperationalObject
from app.domain.enums import Discipline, Entity, PlanKind, PlanStatus
from app.domain.schema import CommonProps, Time, partial
from app.domain.spec import EntitySpec

# A plan names a few dozen services at most; the bound keeps one request from naming thousands.
MAX_LINKS = 100
Ids = Annotated[list[uuid.UUID], Field(max_length=MAX_LINKS)]


class Plan(OperationalObject, Base):
    __tablename__ = "plans"
    linked_by = (("subject", "subject_id"),)

    kind: Mapped[str] = mapped_column(String(16))
    discipline: Mapped[str | None] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16))
    zone_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    subject_entity: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    contact_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    review_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PlanCreate(CommonProps):
    kind: PlanKind
    discipline: Discipline | None = None
    status: PlanStatus = PlanStatus.draft
    zone_ids: Ids = []
    # A special or internal plan's site (a zone) or the planned event it is written for.
    subject_entity: Literal["zone", "planned_event"] | None = None
    subject_id: uuid.UUID | None = None
    contact_ids: Ids = []
    review_due: Time | None = None


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    for name in ("zone_ids", "contact_ids"):
        values[name] = list(dict.fromkeys(values.get(name) or []))  # once each, in order
    site = values.get("subject_id") if values.get("subject_entity") == Entity.zone else None
    if site is not None and site not in values["zone_ids"]:
        # A site's plan opens from the site's zone like from any of its zones (`?zone=`).
        values["zone_ids"] = [site, *values["zone_ids"]]


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    if (values.get("subject_entity") is None) != (values.get("subject_id") is None):
        problems.append(("subject_id", "subject_entity and subject_id go together"))
    if values.get("kind") == PlanKind.intervention and values.get("discipline") is None:
        problems.append(("discipline", "an intervention plan (PMI/MIP) is a discipline's"))
    return problems


_DIRECTORY = table("directory_entries", column("id"))


async def _verify(
    session: AsyncSession, values: dict[str, Any], changed: dict[str, Any]
) -> list[tuple[str, str]]:
    """Every contact a plan is given names an entry of the directory (an entry removed later
    shows as removed where the plan is read, and blocks no other change). The directory's
    table belongs to the partners' layer, which the domain does not import: the check reads
    the ids only."""
    if "contact_ids" not in changed:
        return []
    wanted = set(values.get("contact_ids") or [])
    if not wanted:
        return []
    known = set(
        (await session.scalars(select(_DIRECTORY.c.id).where(_DIRECTORY.c.id.in_(wanted)))).all()
    )
    missing = [i for i in values["contact_ids"] if i not in known]
    return [("contact_ids", f"no directory entry {missing[0]}")] if missing else []


SPEC = EntitySpec(
    entity=Entity.plan,
    model=Plan,
    path="plans",
    ref_prefix="PLN",
    create_schema=PlanCreate,
    update_schema=partial(PlanCreate),
    fields=(
        "kind",
        "discipline",
        "status",
        "zone_ids",
        "subject_entity",
        "subject_id",
        "contact_ids",
        "review_due",
    ),
    geometry_types=None,
    geometry_required=False,
    status_enum=PlanStatus,
    kind_field="kind",
    kind_enum=PlanKind,
    transitions={
        "status": {
            PlanStatus.draft: frozenset({PlanStatus.in_force, PlanStatus.withdrawn}),
            # Revised: back to draft until the new version is approved.
            PlanStatus.in_force: frozenset({PlanStatus.draft, PlanStatus.withdrawn}),
            PlanStatus.withdrawn: frozenset({PlanStatus.draft}),
        }
    },
    closing=frozenset({PlanStatus.withdrawn}),
    check=_check,
    derive=_derive,
    links={"subject_id": "subject_entity"},
    many_links={"zone_ids": Entity.zone},
    verify=_verify,
)
