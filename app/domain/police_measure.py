"""Police measures in force on a place: a mayor's order, a police regulation, a closure, a place
ban, cameras… with their legal basis, reference, authority and validity. A measure taken for
six months and extended keeps its first end (`valid_to`) and the list of its extensions, each
with its own reference and decision date; `valid_until` is the end in force (the last one).

The measures of a drug hotspot are what its fiche lists (app.reports.hotspots); a measure names
the zones it applies to (`zone_ids`), of any kind: a drone ban or a perimeter is ordered the
same way."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import ColumnElement, DateTime, Index, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain import objects
from app.domain.actor import Actor
from app.domain.base import OperationalObject
from app.domain.enums import Entity, MeasureKind, MeasureStatus, MeasureValidity
from app.domain.schema import CommonProps, Input, Props, Short, Time, partial
from app.domain.schema import Text as LongText
from app.domain.spec import EntitySpec, Problems
from app.errors import conflict, validation_problem

# How long before its end a measure in force is flagged: a renewal takes a council decision or
# a mayor's order, prepared weeks ahead.
EXPIRING_WITHIN = timedelta(days=30)
MAX_EXTENSIONS = 50
Reference = Annotated[str, Field(min_length=1, max_length=120)]


class PoliceMeasure(OperationalObject, Base):
    __tablename__ = "police_measures"

    zone_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)
    kind: Mapped[str] = mapped_column(String(32))
    legal_basis: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(120))
    authority: Mapped[str | None] = mapped_column(String(300))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    extensions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# A fiche asks for the police measures of one zone (`zone_ids @> ARRAY[id]`).
Index("ix_police_measures_zones", PoliceMeasure.zone_ids, postgresql_using="gin")


class PoliceMeasureCreate(CommonProps):
    zone_ids: Annotated[list[uuid.UUID], Field(max_length=50)] = []
    kind: MeasureKind
    # The text it rests on, e.g. "Art. 134sexies Nouvelle loi communale / Nieuwe Gemeentewet".
    legal_basis: Short
    reference: Reference | None = None  # the order's or decree's number
    authority: Short | None = None  # who took it: the mayor of …, the municipal council…
    valid_from: Time
    valid_to: Time | None = None  # none: until revoked
    status: MeasureStatus = MeasureStatus.active


class Extension(Props, Input):
    """An extension of a measure: its new end, the reference of the act that extends it, when
    that was decided, and a note."""

    until: Time
    reference: Reference
    decided_at: Time | None = None
    note: LongText | None = None


class _Extended(Props):
    extensions: list[dict[str, Any]]


def _end(values: dict[str, Any]) -> datetime | None:
    ends: list[datetime] = [values["valid_to"]] if values.get("valid_to") else []
    ends += [datetime.fromisoformat(e["until"]) for e in values.get("extensions") or []]
    return max(ends) if ends else None


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    values["extensions"] = list(values.get("extensions") or [])
    values["zone_ids"] = list(dict.fromkeys(values.get("zone_ids") or []))
    values["valid_until"] = _end(values)
    if "status" in changed:
        revoked = values["status"] == MeasureStatus.revoked
        values["revoked_at"] = (values.get("revoked_at") or datetime.now(UTC)) if revoked else None


def _check(values: dict[str, Any]) -> Problems:
    start, end = values.get("valid_from"), values.get("valid_to")
    if start and end and end <= start:
        return [("valid_to", "must be after valid_from")]
    return []


def validity(
    valid_from: datetime, valid_until: datetime | None, status: str, at: datetime
) -> MeasureValidity:
    """Where a measure stands at `at`: revoked, not yet in force, in force (ending within
    EXPIRING_WITHIN: expiring) or expired."""
    if status == MeasureStatus.revoked:
        return MeasureValidity.revoked
    if at < valid_from:
        return MeasureValidity.upcoming
    if valid_until is not None and at >= valid_until:
        return MeasureValidity.expired
    if valid_until is not None and valid_until - at <= EXPIRING_WITHIN:
        return MeasureValidity.expiring
    return MeasureValidity.in_force


def _problem(name: str, msg: str) -> Exception:
    return validation_problem([{"loc": ["body", name], "msg": msg}])


async def extend(
    session: AsyncSession,
    measure_id: uuid.UUID,
    extension: Extension,
    expected_version: int,
    actor: Actor,
    scope: ColumnElement[bool] | None,
    now: datetime,
) -> objects.Written:
    """Extend a measure in force to `extension.until`, through the one write path (a version,
    a change record). A measure that lapsed or was revoked is not extended: a new act takes a
    new measure, with its own reference."""
    row = await objects.get(session, SPEC, measure_id, scope, for_update=True)
    assert isinstance(row, PoliceMeasure)
    if row.version != expected_version:
        raise objects.stale(SPEC, row, expected_version)
    if row.status == MeasureStatus.revoked:
        raise conflict(f"police measure {row.ref} was revoked: it cannot be extended")
    if row.valid_until is None:
        raise _problem("until", f"police measure {row.ref} has no end: there is nothing to extend")
    decided = extension.decided_at or now
    if decided > row.valid_until:
        raise _problem(
            "decided_at",
            f"police measure {row.ref} lapsed on {row.valid_until.isoformat()}, before this "
            "extension was decided: record the new act as a new measure",
        )
    if extension.until <= row.valid_until:
        raise _problem(
            "until", f"must be after the measure's current end, {row.valid_until.isoformat()}"
        )
    if len(row.extensions) >= MAX_EXTENSIONS:
        raise conflict(f"police measure {row.ref} has {MAX_EXTENSIONS} extensions already")
    record = {
        "until": extension.until.astimezone(UTC).isoformat(),
        "reference": extension.reference,
        "decided_at": decided.astimezone(UTC).isoformat(),
        "note": extension.note,
        "previous_end": row.valid_until.astimezone(UTC).isoformat(),
        "recorded_by": actor.name,
        "recorded_at": now.astimezone(UTC).isoformat(),
    }
    patch = _Extended(extensions=[*row.extensions, record])
    return await objects.update(session, SPEC, measure_id, patch, None, row.version, actor, scope)


SPEC = EntitySpec(
    entity=Entity.police_measure,
    model=PoliceMeasure,
    path="police_measures",
    ref_prefix="MES",
    create_schema=PoliceMeasureCreate,
    update_schema=partial(PoliceMeasureCreate),
    fields=(
        "zone_ids",
        "kind",
        "legal_basis",
        "reference",
        "authority",
        "valid_from",
        "valid_to",
        "extensions",
        "valid_until",
        "status",
        "revoked_at",
    ),
    geometry_types=None,
    geometry_required=False,
    status_enum=MeasureStatus,
    kind_field="kind",
    kind_enum=MeasureKind,
    transitions={
        "status": {
            MeasureStatus.active: frozenset({MeasureStatus.revoked}),
            # Revoked by mistake: set back.
            MeasureStatus.revoked: frozenset({MeasureStatus.active}),
        }
    },
    initial={"status": frozenset({MeasureStatus.active})},
    closing=frozenset({MeasureStatus.revoked}),
    window=("valid_from", "valid_until"),
    text_fields=("legal_basis", "reference", "authority"),
    check=_check,
    derive=_derive,
    many_links={"zone_ids": Entity.zone},
)
