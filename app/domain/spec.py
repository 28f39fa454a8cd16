"""What distinguishes one kind of operational object from another, declared once per kind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.actor import Actor
from app.domain.base import OperationalObject
from app.domain.enums import Entity

Transitions = dict[str, frozenset[str]]
Problems = list[tuple[str, str]]  # (field, message)
# A create's work that needs the database, in the create's transaction: gets the session, the
# row about to be stored (id, created_at and created_by set; it may complete or refuse it) and
# the writer.
BeforeInsert = Callable[[AsyncSession, dict[str, Any], Actor], Awaitable[None]]
# What a create does once its row is stored, in the same transaction: gets the session and the
# row stored. Not run for a repeated create that stored nothing.
AfterInsert = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]


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
    # Checks (and defaults) that need the database: a task's owner holds a seat in its
    # activation's cell, a phase is one of the admin-kept list, a seat's holder is a known user,
    # a plan's contacts are directory entries, a fiche's entries name organisations, zones and
    # positions that exist.
    # Gets (session, values, changed), after `check` and the link checks; returns
    # [(field, message)] problems (or raises one naming the field).
    verify: Callable[[AsyncSession, dict[str, Any], dict[str, Any]], Awaitable[Problems]] | None = (
        None
    )
    # Sets derived values when fields change (e.g. closed_at when closed); gets (values, changed).
    derive: Callable[[dict[str, Any], dict[str, Any]], None] | None = None
    # Links to other objects that must exist: field holding the id -> field holding the entity name.
    links: dict[str, str] = field(default_factory=dict)
    # Links to one kind of object: field holding the id -> that kind (a task's activation_id).
    fixed_links: dict[str, Entity] = field(default_factory=dict)
    # Lists of links to one kind of object, each of which must exist: a plan's zone_ids.
    many_links: dict[str, Entity] = field(default_factory=dict)
    # Written once, never changed nor deleted by anyone (decisions, logbook entries): a
    # correction is a new object that references the one it corrects. No PATCH, no DELETE.
    append_only: bool = False
    # Fields that may hold personal data (callers, victims, witnesses): blanked once the object
    # is closed and older than its kind's retention (app.privacy.purge, docs/privacy.md).
    personal_fields: tuple[str, ...] = ()
    before_insert: BeforeInsert | None = None
    after_insert: AfterInsert | None = None
    # Sets values from the objects the links point to, given as {id field: that object}: a
    # document takes its subject's visibility. Asked again, through the write path, of every
    # object linking to one whose visibility or shared_with changes (objects._follow).
    derive_from_links: Callable[[dict[str, Any], dict[str, Any]], None] | None = None
    # Generic routes this kind's own package serves instead ("create", "delete"): a document is
    # created by uploading its bytes, and deleting it deletes them too (app/documents/routes).
    own_routes: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        return self.entity.value.replace("_", " ")
