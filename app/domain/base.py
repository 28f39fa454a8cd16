"""Columns every operational object shares, and their identifiers."""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime
from typing import Any, ClassVar

from geoalchemy2 import Geometry
from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from app.domain.enums import Visibility


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 v7), so keyset pagination by id follows creation order."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & (2**48 - 1)) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64 | 0b10 << 62
    value |= rand & (2**62 - 1)
    return uuid.UUID(int=value)


class OperationalObject:
    """Mixin: identity, version, geometry and derived geography, provenance and audit columns,
    and the indexes every kind's table needs (named after the table)."""

    # Links to another object that lists filter on (`subject`): (index suffix, column).
    linked_by: ClassVar[tuple[tuple[str, str], ...]] = ()
    # Columns no two rows share (a decision's place in its activation's chain): (suffix, columns).
    unique_by: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = ()

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        t: str = cls.__tablename__  # type: ignore[attr-defined]  # set by each kind's table
        return (
            Index(f"ix_{t}_geom", "geom", postgresql_using="gist"),
            Index(f"ix_{t}_municipalities", "municipality_codes", postgresql_using="gin"),
            Index(f"ix_{t}_police_zones", "police_zone_codes", postgresql_using="gin"),
            *(Index(f"ix_{t}_{suffix}", column) for suffix, column in cls.linked_by),
            *(Index(f"ux_{t}_{suffix}", *cols, unique=True) for suffix, cols in cls.unique_by),
            # What idempotent creates rely on: a retried (source, external_id) finds the first
            # row (ON CONFLICT in objects._insert_statement).
            Index(
                f"ux_{t}_source_external_id",
                "source",
                "external_id",
                unique=True,
                postgresql_where=text("external_id IS NOT NULL"),
            ),
        )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[Visibility] = mapped_column(String(16), default=Visibility.internal)
    # Organisations (codes) an internal object is shared with, beyond `visibility: shared`.
    shared_with: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(128))
    municipality_codes: Mapped[list[str]] = mapped_column(ARRAY(String(8)), default=list)
    police_zone_codes: Mapped[list[str]] = mapped_column(ARRAY(String(8)), default=list)
    areas: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(128))

    @declared_attr
    def geom(cls) -> Mapped[object | None]:
        return mapped_column(Geometry(srid=4326, spatial_index=False), nullable=True)
