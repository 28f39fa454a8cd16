"""Rule matching, without a database: one change's Feature and one subscription → alert or not.

The evaluator (app.alerts.workers.evaluator) feeds this from the change feed; tests drive it with
tables of cases. A rule raises an alert once per object and subscription, and again only when
the object changes materially (severity, status, kind, geometry, time window): the last raised
state is kept as a fingerprint.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from shapely import prepare
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app.alerts.enums import MsgType
from app.domain.enums import SEVERITY_ORDER, Entity
from app.domain.registry import BY_ENTITY
from app.domain.visibility import Scope
from app.partners.models import AreaKind

_RANK = {s.value: i for i, s in enumerate(SEVERITY_ORDER)}
_KIND_FIELD = {e.value: spec.kind_field for e, spec in BY_ENTITY.items()}
_CLOSING = {e.value: frozenset(spec.closing) for e, spec in BY_ENTITY.items()}
# What makes a change worth a new alert; a new title or description is not.
MATERIAL = (
    "status",
    "severity",
    "category",
    "kind",
    "level",
    "authorisation",
    "starts_at",
    "ends_at",
    "valid_from",
    "valid_to",
)


@dataclass(frozen=True)
class ZoneArea:
    """A zone of the picture as the rules need it, with who may see it."""

    id: uuid.UUID
    kind: str
    active: bool
    geometry: BaseGeometry
    visibility: str = "internal"
    shared_with: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        zone_id: uuid.UUID,
        kind: str,
        active: bool,
        geojson: Mapping[str, Any],
        *,
        visibility: str,
        shared_with: Iterable[str] = (),
    ) -> ZoneArea:
        geometry = shape(geojson)
        prepare(geometry)
        return cls(zone_id, kind, active, geometry, visibility, frozenset(shared_with))

    def visible_to(self, organisation: str) -> bool:
        return partner_sees(
            organisation, {"visibility": self.visibility, "shared_with": self.shared_with}
        )


@dataclass
class Context:
    """The zones of the picture when a batch of changes is evaluated.

    A partner's rules are matched against the zones that partner may see, and only those: an
    alert raised "inside" an internal zone, or one shared with another partner only, would
    tell it where that zone lies."""

    zones: dict[uuid.UUID, ZoneArea] = field(default_factory=dict)
    _seen: dict[str, dict[uuid.UUID, ZoneArea]] = field(default_factory=dict, repr=False)

    def zones_of(self, organisation: str) -> dict[uuid.UUID, ZoneArea]:
        seen = self._seen.get(organisation)
        if seen is None:
            seen = {i: z for i, z in self.zones.items() if z.visible_to(organisation)}
            self._seen[organisation] = seen
        return seen

    def active_of(self, kinds: frozenset[str], organisation: str) -> list[ZoneArea]:
        return [z for z in self.zones_of(organisation).values() if z.active and z.kind in kinds]


@dataclass(frozen=True)
class Rule:
    """A subscription compiled once per batch."""

    id: uuid.UUID
    organisation: str
    entities: frozenset[str]
    area_kind: AreaKind
    categories: frozenset[str] | None = None
    min_severity: int | None = None
    parent_entities: frozenset[str] | None = None
    zone_id: uuid.UUID | None = None
    zone_kinds: frozenset[str] = frozenset()
    codes: frozenset[str] = frozenset()
    polygon: BaseGeometry | None = None

    @classmethod
    def build(
        cls,
        *,
        id: uuid.UUID,
        organisation: str,
        entities: Iterable[str],
        area_kind: str,
        categories: Iterable[str] | None = None,
        min_severity: str | None = None,
        parent_entities: Iterable[str] | None = None,
        zone_id: uuid.UUID | None = None,
        zone_kinds: Iterable[str] | None = None,
        codes: Iterable[str] | None = None,
        polygon: Mapping[str, Any] | None = None,
    ) -> Rule:
        area = shape(polygon) if polygon else None
        if area is not None:
            prepare(area)
        return cls(
            id=id,
            organisation=organisation,
            entities=frozenset(entities),
            area_kind=AreaKind(area_kind),
            categories=frozenset(categories) if categories else None,
            min_severity=_RANK[min_severity] if min_severity else None,
            parent_entities=frozenset(parent_entities) if parent_entities else None,
            zone_id=zone_id,
            zone_kinds=frozenset(zone_kinds or ()),
            codes=frozenset(codes or ()),
            polygon=area,
        )


@dataclass
class Subject:
    """One change as the rules see it: the object's state after the change."""

    entity: str
    id: uuid.UUID
    op: str
    feature: dict[str, Any]
    _shape: BaseGeometry | None = field(default=None, repr=False)

    @property
    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = self.feature.get("properties") or {}
        return props

    @property
    def kind(self) -> str | None:
        name = _KIND_FIELD.get(self.entity)
        return self.properties.get(name) if name else None

    @property
    def severity(self) -> int | None:
        return _RANK.get(self.properties.get("severity") or "")

    @property
    def ended(self) -> bool:
        """Deleted, or in a status that ends it (closed, false alarm, lifted, cancelled…)."""
        return self.op == "deleted" or self.properties.get("status") in _CLOSING.get(
            self.entity, frozenset()
        )

    def codes(self, key: str) -> frozenset[str]:
        areas = self.properties.get(key) or []
        return frozenset(str(a["code"]) for a in areas if isinstance(a, dict) and "code" in a)

    def shape(self) -> BaseGeometry | None:
        if self._shape is None and self.feature.get("geometry"):
            self._shape = shape(self.feature["geometry"])
        return self._shape

    def fingerprint(self) -> str:
        props = self.properties
        material = {name: props.get(name) for name in MATERIAL}
        material["geometry"] = self.feature.get("geometry")
        material["op"] = "deleted" if self.op == "deleted" else "live"
        return hashlib.sha256(orjson.dumps(material, option=orjson.OPT_SORT_KEYS)).hexdigest()


def in_area(rule: Rule, subject: Subject, context: Context) -> bool:
    match rule.area_kind:
        case AreaKind.region:
            return True
        case AreaKind.municipalities:
            return bool(rule.codes & subject.codes("municipalities"))
        case AreaKind.police_zones:
            return bool(rule.codes & subject.codes("police_zones"))
    geometry = subject.shape()
    if geometry is None:
        return False
    match rule.area_kind:
        case AreaKind.polygon:
            return rule.polygon is not None and bool(rule.polygon.intersects(geometry))
        case AreaKind.zone:
            zone = context.zones_of(rule.organisation).get(rule.zone_id) if rule.zone_id else None
            # The zone's own changes are not "inside" it: they are about the zone itself.
            if zone is None or zone.id == subject.id:
                return False
            return bool(zone.geometry.intersects(geometry))
        case AreaKind.zone_kinds:
            return any(
                z.geometry.intersects(geometry)
                for z in context.active_of(rule.zone_kinds, rule.organisation)
                if z.id != subject.id
            )
    return False


def matches(rule: Rule, subject: Subject, context: Context) -> bool:
    """Whether the object's state after the change is what the subscription asks for.

    As in the realtime filter, a criterion on a property the object does not have (severity
    of a zone, category of a demonstration) does not exclude it."""
    if subject.entity not in rule.entities:
        return False
    kind = subject.kind
    if rule.categories is not None and kind is not None and kind not in rule.categories:
        return False
    severity = subject.severity
    if rule.min_severity is not None and severity is not None and severity < rule.min_severity:
        return False
    if rule.parent_entities is not None and (
        subject.properties.get("parent_entity") not in rule.parent_entities
    ):
        return False
    return in_area(rule, subject, context)


def partner_sees(organisation: str, properties: Mapping[str, Any]) -> bool:
    """Whether a partner may read an object: the same scope as the REST API."""
    return Scope(organisation=organisation, partner=True).sees(properties)


def visible_to(organisation: str, subject: Subject) -> bool:
    """A partner is alerted only about what it may read."""
    return partner_sees(organisation, subject.properties)


@dataclass(frozen=True)
class Previous:
    """The last alert a rule raised for an object."""

    alert_id: uuid.UUID
    fingerprint: str


@dataclass(frozen=True)
class Decision:
    msg_type: MsgType
    references: uuid.UUID | None
    fingerprint: str
    # False: the partner no longer sees the object, and its Cancel is composed from the state
    # of the alert it references (what the partner was alerted with), not from this change.
    current: bool = True


def decide(
    rule: Rule, subject: Subject, context: Context, previous: Previous | None
) -> Decision | None:
    """Alert, Update, Cancel or nothing for one rule and one change.

    - a first match raises an Alert; the same material state raises nothing more;
    - a material change while it still matches raises an Update of the last alert;
    - an object that ends (closed, false alarm, lifted, deleted) after an alert raises a Cancel;
      one that ends without having been alerted raises nothing. A partner that can no longer
      see the object (it was withdrawn from it) still has its alert cancelled, but is told only
      what it was alerted with (`Decision.current` False): not the later state, not even
      whether the object was closed or deleted.
    """
    fingerprint = subject.fingerprint()
    if previous is not None and previous.fingerprint == fingerprint:
        return None
    seen = visible_to(rule.organisation, subject)
    if subject.ended:
        if previous is None or subject.entity not in rule.entities:
            return None
        return Decision(MsgType.Cancel, previous.alert_id, fingerprint, current=seen)
    if not seen or not matches(rule, subject, context):
        return None
    if previous is None:
        return Decision(MsgType.Alert, None, fingerprint)
    return Decision(MsgType.Update, previous.alert_id, fingerprint)


ENTITIES = frozenset(e.value for e in Entity)
