"""Zones: drawn perimeters, routes and points with a kind and their own validity window."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import DateTime, Index, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.base import OperationalObject
from app.domain.enums import Entity, ZoneKind, ZoneStatus
from app.domain.schema import CommonProps, Time, partial
from app.domain.spec import EntitySpec


class Zone(OperationalObject, Base):
    __tablename__ = "zones"
    linked_by = (("parent", "parent_id"),)

    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    parent_entity: Mapped[str | None] = mapped_column(String(32))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


# Deconfliction's window test (app.domain.conflict); an open end is an unbounded range.
Index("ix_zones_window", func.tstzrange(Zone.valid_from, Zone.valid_to), postgresql_using="gist")


class ZoneCreate(CommonProps):
    kind: ZoneKind
    status: ZoneStatus = ZoneStatus.active
    valid_from: Time | None = None
    valid_to: Time | None = None
    parent_entity: Literal["planned_event", "demonstration"] | None = None
    parent_id: uuid.UUID | None = None


AREAL = frozenset({"Polygon", "MultiPolygon"})
LINEAR = frozenset({"LineString", "MultiLineString"})
# A perimeter is an area, a route a line, a post or a meeting point may be a spot on the map.
GEOMETRY_BY_KIND: dict[str, frozenset[str]] = {
    ZoneKind.security_perimeter: AREAL,
    ZoneKind.red_zone: AREAL,
    ZoneKind.drone_ban: AREAL,
    ZoneKind.traffic_restriction: AREAL | LINEAR,
    ZoneKind.route: LINEAR,
    ZoneKind.assembly_point: AREAL | {"Point"},
    ZoneKind.staging_area: AREAL | {"Point"},
    ZoneKind.first_aid_post: AREAL | {"Point"},
    ZoneKind.hotspot: AREAL,
}


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    start, end = values.get("valid_from"), values.get("valid_to")
    if start and end and end <= start:
        problems.append(("valid_to", "must be after valid_from"))
    if (values.get("parent_entity") is None) != (values.get("parent_id") is None):
        problems.append(("parent_id", "parent_entity and parent_id go together"))
    gtype = values.get("_geometry_type")
    allowed = GEOMETRY_BY_KIND[values["kind"]]
    if gtype and gtype not in allowed:
        problems.append(
            ("kind", f"a {values['kind']} zone takes {', '.join(sorted(allowed))}, not {gtype}")
        )
    return problems


SPEC = EntitySpec(
    entity=Entity.zone,
    model=Zone,
    path="zones",
    ref_prefix="ZON",
    create_schema=ZoneCreate,
    update_schema=partial(ZoneCreate),
    fields=("kind", "status", "valid_from", "valid_to", "parent_entity", "parent_id"),
    geometry_types=None,
    geometry_by_kind=GEOMETRY_BY_KIND,
    status_enum=ZoneStatus,
    kind_field="kind",
    kind_enum=ZoneKind,
    transitions={
        "status": {
            ZoneStatus.active: frozenset({ZoneStatus.lifted}),
            ZoneStatus.lifted: frozenset({ZoneStatus.active}),
        }
    },
    closing=frozenset({ZoneStatus.lifted}),
    window=("valid_from", "valid_to"),
    check=_check,
    links={"parent_id": "parent_entity"},
)
