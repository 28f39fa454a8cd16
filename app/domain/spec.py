"""What distinguishes one kind of operational object from another, declared once per kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from app.domain.base import OperationalObject
from app.domain.enums import Entity

Transitions = dict[str, frozenset[str]]


@dataclass(frozen=True)
class EntitySpec:
    entity: Entity
    model: type[OperationalObject]
    path: str  # URL collection name, e.g. "incidents"
    ref_prefix: str  # human reference, e.g. INC-2026-000042
    create_schema: type[BaseModel]
    update_schema: type[BaseModel]
    fields: tuple[str, ...]  # type-specific properties, in output order
    geometry_types: frozenset[str] | None  # None: any GeoJSON geometry type
    geometry_required: bool = True
    # kind -> the geometry types an object of that kind takes (every kind listed), for kinds
    # whose shape is part of their meaning (a route is a line); checked by the kind's `check`.
    geometry_by_kind: dict[str, frozenset[str]] = field(default_factory=dict)
    status_field: str | None = "status"
    status_enum: type[StrEnum] | None = None
    kind_field: str | None = None  # the list filter `category`/`kind` applies to this column
    kind_enum: type[StrEnum] | None = None
    transitions: dict[str, Transitions] = field(default_factory=dict)  # field -> from -> allowed
    initial: dict[str, frozenset[str]] = field(default_factory=dict)  # field -> allowed at creation
    closing: frozenset[str] = frozenset()  # statuses that end the object (the `close` action)
    window: tuple[str, str | None] | None = None  # (start column, end column) for start/end filters
    text_fields: tuple[str, ...] = ()
    # Checks the merged state (e.g. end after start); returns [(field, message)] problems.
    check: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None
    # Sets derived values when fields change (e.g. closed_at when closed); gets (values, changed).
    derive: Callable[[dict[str, Any], dict[str, Any]], None] | None = None
    # Links to other objects that must exist: field holding the id -> field holding the entity name.
    links: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.entity.value.replace("_", " ")
