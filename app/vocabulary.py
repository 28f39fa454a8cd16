"""The words and rules the server and the dashboard share, declared once.

- Labels: the FR/NL/EN words of every enum a person reads (categories, severities, each kind's
  statuses, zone kinds, CAP fields, delivery states…), in `app/vocabulary.json`, keyed by the
  API's own values. The server's alerts, CAP and e-mails read them through `label()`; a file
  that misses a value or a language stops the service at start.
- Rules of each kind (statuses, transitions, the statuses an object may start in, geometry
  types, field limits and defaults): declared by its `EntitySpec` and create schema in
  `app/domain/<kind>.py`, and only read here.

The dashboard gets both in `frontend/src/generated/vocabulary.json`, which
`python -m app.vocabulary` writes (the frontend build and its tests run it) and which is
committed, so a build without Python (the Docker image's Node stage) has it too;
tests/test_vocabulary.py fails when that copy differs from what this module produces.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from app.alerts.enums import (
    AckVia,
    CapCategory,
    CapSeverity,
    CapStatus,
    Certainty,
    DeliveryStatus,
    MsgType,
    Origin,
    Urgency,
)
from app.auth.roles import Role
from app.domain.enums import (
    ActivationLevel,
    ActivationStatus,
    Authorisation,
    ChangeOp,
    ChecklistStatus,
    ConflictStatus,
    Coordinator,
    Discipline,
    Entity,
    EventKind,
    EventStatus,
    FeedOutside,
    FeedTrust,
    FicheStatus,
    HandoverStatus,
    IncidentCategory,
    IncidentStatus,
    ItemState,
    Language,
    LogbookKind,
    MeasureKind,
    MeasureStatus,
    MeasureValidity,
    PlanKind,
    PlanStatus,
    PositionRole,
    Presence,
    RiskLevel,
    Severity,
    SitrepStatus,
    TaskPriority,
    TaskStatus,
    ThreatLevel,
    ThreatSector,
    Trend,
    Visibility,
    ZoneKind,
    ZoneStatus,
)
from app.domain.registry import SPECS
from app.domain.spec import EntitySpec
from app.partners.models import ChannelKind, ConfirmationState, ReminderKind

LANGUAGES = ("fr", "nl", "en")
SOURCE = Path(__file__).with_name("vocabulary.json")
DASHBOARD_COPY = Path(__file__).resolve().parent.parent / "frontend/src/generated/vocabulary.json"

# Label group -> the enum whose values it names. A group is the key the dashboard looks labels
# up by (`label('zone_kind', 'route')`); an enum has one group, the entity also its plural.
GROUPS: dict[str, type[StrEnum]] = {
    "entity": Entity,
    "entity_plural": Entity,
    "op": ChangeOp,
    "category": IncidentCategory,
    "severity": Severity,
    "incident_status": IncidentStatus,
    "visibility": Visibility,
    "event_kind": EventKind,
    "risk_level": RiskLevel,
    "event_status": EventStatus,
    "authorisation": Authorisation,
    "zone_kind": ZoneKind,
    "zone_status": ZoneStatus,
    "conflict_status": ConflictStatus,
    "activation_level": ActivationLevel,
    "coordinator": Coordinator,
    "activation_status": ActivationStatus,
    "logbook_kind": LogbookKind,
    "role": Role,
    "cap_msg_type": MsgType,
    "cap_status": CapStatus,
    "cap_severity": CapSeverity,
    "cap_urgency": Urgency,
    "cap_certainty": Certainty,
    "cap_category": CapCategory,
    "alert_origin": Origin,
    "channel": ChannelKind,
    "delivery_status": DeliveryStatus,
    "ack_via": AckVia,
    "discipline": Discipline,
    "position_role": PositionRole,
    "presence": Presence,
    "task_priority": TaskPriority,
    "task_status": TaskStatus,
    "plan_kind": PlanKind,
    "plan_status": PlanStatus,
    "directory_state": ConfirmationState,
    "directory_reminder": ReminderKind,
    "checklist_status": ChecklistStatus,
    "item_state": ItemState,
    "fiche_status": FicheStatus,
    "sitrep_status": SitrepStatus,
    "language": Language,
    "measure_kind": MeasureKind,
    "measure_status": MeasureStatus,
    "measure_validity": MeasureValidity,
    "trend": Trend,
    "handover_status": HandoverStatus,
    "threat_level": ThreatLevel,
    "threat_sector": ThreatSector,
    "feed_trust": FeedTrust,
    "feed_outside": FeedOutside,
}
_GROUP_OF: dict[type[StrEnum], str] = {}
for _group, _enum in GROUPS.items():
    _GROUP_OF.setdefault(_enum, _group)

Labels = dict[str, dict[str, dict[str, str]]]  # group -> value -> language -> words


def problems(labels: Any) -> list[str]:
    """What keeps `labels` from naming every value of every group in every language."""
    if not isinstance(labels, dict):
        return ["the file must hold an object of label groups"]
    found = [f"{group!r} is not a label group" for group in labels if group not in GROUPS]
    for group, enum in GROUPS.items():
        table = labels.get(group)
        if not isinstance(table, dict):
            found.append(f"{group}: missing")
            continue
        values = [member.value for member in enum]
        found += [f"{group}.{v}: not a value of {enum.__name__}" for v in table if v not in values]
        for value in values:
            words = table.get(value)
            if not isinstance(words, dict):
                found.append(f"{group}.{value}: missing")
                continue
            found += [
                f"{group}.{value}: {lang!r} is not a language"
                for lang in words
                if lang not in LANGUAGES
            ]
            for lang in LANGUAGES:
                text = words.get(lang)
                if not isinstance(text, str) or not text.strip() or text != text.strip():
                    found.append(f"{group}.{value}: no {lang} words (or stray spaces)")
    return found


def _load(path: Path) -> Labels:
    labels = json.loads(path.read_text(encoding="utf-8"))
    found = problems(labels)
    if found:
        raise RuntimeError(f"{path.name}: " + "; ".join(found))
    return {group: labels[group] for group in GROUPS}


LABELS: Labels = _load(SOURCE)


def label(group: str, value: str | None, language: str) -> str:
    """The words for `value` of a label group, in `language` ('' for no value)."""
    if value is None or value == "":
        return ""
    words = LABELS[group].get(str(value))
    return words[language] if words else str(value).replace("_", " ")


def group_of(enum: type[StrEnum]) -> str:
    """The label group of an enum, e.g. ZoneKind -> 'zone_kind'."""
    return _GROUP_OF[enum]


# ---- what the dashboard gets


def _enum_of(annotation: Any) -> type[StrEnum] | None:
    """The enum a field's annotation names, through `X | None` and `Annotated`."""
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _enum_of(arg)
            if found is not None:
                return found
    return None


def _in_order(values: typing.Iterable[str], enum: type[StrEnum]) -> list[str]:
    order = [member.value for member in enum]
    return sorted((str(v) for v in values), key=order.index)


def _field_limits(schema: dict[str, Any], enums: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each property's limits as the create schema's JSON Schema states them."""
    required = set(schema.get("required", ()))
    out: dict[str, dict[str, Any]] = {}
    for name, prop in schema["properties"].items():
        # `X | None` is an anyOf with null; the limits are on X.
        branch = next((b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"), prop)
        limits: dict[str, Any] = {"required": name in required}
        if "default" in prop and prop["default"] not in (None, []):
            limits["default"] = prop["default"]
        ref = branch.get("$ref")
        if ref:
            limits["enum"] = enums[ref.rsplit("/", 1)[-1]]
        elif "enum" in branch:
            limits["values"] = branch["enum"]
        for key, ours in (
            ("maxLength", "max_length"),
            ("minimum", "min"),
            ("maximum", "max"),
            ("maxItems", "max_items"),
        ):
            if key in branch:
                limits[ours] = branch[key]
        if "maxLength" in branch.get("items", {}):
            limits["item_max_length"] = branch["items"]["maxLength"]
        out[name] = limits
    return out


def _field_enum(spec: EntitySpec, name: str) -> type[StrEnum]:
    enum = _enum_of(spec.create_schema.model_fields[name].annotation)
    if enum is None:
        raise TypeError(f"{spec.entity}.{name} has a lifecycle but is not an enum field")
    return enum


def _lifecycle(spec: EntitySpec) -> dict[str, Any]:
    """Transitions and initial values, each list in its enum's order."""
    transitions = {}
    for name, table in spec.transitions.items():
        enum = _field_enum(spec, name)
        transitions[name] = {v: _in_order(table.get(v, ()), enum) for v in _in_order(table, enum)}
    initial = {
        name: _in_order(values, _field_enum(spec, name)) for name, values in spec.initial.items()
    }
    return {"transitions": transitions, "initial": initial}


def _rules() -> dict[str, dict[str, Any]]:
    enums_by_name = {enum.__name__: group for enum, group in _GROUP_OF.items()}
    return {
        spec.entity.value: {
            "path": spec.path,
            "kind_field": spec.kind_field,
            "kind_enum": group_of(spec.kind_enum) if spec.kind_enum else None,
            "status_field": spec.status_field,
            "status_enum": group_of(spec.status_enum) if spec.status_enum else None,
            "window": list(spec.window) if spec.window else None,
            "geometry_types": sorted(spec.geometry_types) if spec.geometry_types else None,
            "geometry_required": spec.geometry_required,
            "geometry_by_kind": {
                str(kind): sorted(allowed) for kind, allowed in spec.geometry_by_kind.items()
            },
            **_lifecycle(spec),
            "closing": _in_order(spec.closing, spec.status_enum) if spec.status_enum else [],
            "fields": _field_limits(spec.create_schema.model_json_schema(), enums_by_name),
        }
        for spec in SPECS
    }


def for_dashboard() -> dict[str, Any]:
    """Everything the dashboard reads: enum values in API order, labels, each kind's rules."""
    return {
        "generated_by": "python -m app.vocabulary, from app/vocabulary.json and app/domain/*.py",
        "languages": list(LANGUAGES),
        "enums": {group: [member.value for member in enum] for group, enum in GROUPS.items()},
        "labels": {
            lang: {
                group: {value: words[lang] for value, words in table.items()}
                for group, table in LABELS.items()
            }
            for lang in LANGUAGES
        },
        "entities": _rules(),
    }


@cache
def dashboard_text() -> str:
    """The dashboard's copy, byte for byte."""
    return json.dumps(for_dashboard(), ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.vocabulary",
        description="Write the dashboard's copy of the shared vocabulary and per-kind rules.",
    )
    parser.add_argument("--out", type=Path, default=DASHBOARD_COPY)
    parser.add_argument(
        "--check", action="store_true", help="only say whether the copy is current (exit 1 if not)"
    )
    args = parser.parse_args(argv)
    text = dashboard_text()
    current = args.out.read_text(encoding="utf-8") if args.out.exists() else None
    if args.check:
        if current != text:
            print(f"{args.out} is out of date: run python -m app.vocabulary", file=sys.stderr)
            return 1
        return 0
    # Written only when it changed, so that an unchanged copy does not trigger a rebuild.
    if current != text:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
