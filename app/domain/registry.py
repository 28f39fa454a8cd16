"""Every kind of operational object, by entity name and by URL collection."""

from __future__ import annotations

from app.domain import activation, demonstration, incident, logbook_entry, planned_event, zone
from app.domain.enums import Entity
from app.domain.spec import EntitySpec

SPECS: tuple[EntitySpec, ...] = (
    incident.SPEC,
    planned_event.SPEC,
    demonstration.SPEC,
    zone.SPEC,
    activation.SPEC,
    logbook_entry.SPEC,
)
BY_ENTITY: dict[Entity, EntitySpec] = {s.entity: s for s in SPECS}
BY_PATH: dict[str, EntitySpec] = {s.path: s for s in SPECS}
