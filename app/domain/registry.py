"""Every kind of operational object, by entity name and by URL collection."""

from __future__ import annotations

from app.domain import (
    activation,
    checklist,
    conflict,
    decision,
    demonstration,
    document,
    fiche,
    hotspot_note,
    incident,
    logbook_entry,
    plan,
    planned_event,
    police_measure,
    position,
    sitrep,
    task,
    threat_level,
    zone,
)
from app.domain.enums import Entity
from app.domain.spec import EntitySpec

SPECS: tuple[EntitySpec, ...] = (
    incident.SPEC,
    planned_event.SPEC,
    demonstration.SPEC,
    zone.SPEC,
    activation.SPEC,
    logbook_entry.SPEC,
    position.SPEC,
    task.SPEC,
    decision.SPEC,
    plan.SPEC,
    checklist.SPEC,
    fiche.SPEC,
    document.SPEC,
    sitrep.SPEC,
    police_measure.SPEC,
    hotspot_note.SPEC,
    threat_level.SPEC,
    conflict.SPEC,
)
BY_ENTITY: dict[Entity, EntitySpec] = {s.entity: s for s in SPECS}
BY_PATH: dict[str, EntitySpec] = {s.path: s for s in SPECS}
