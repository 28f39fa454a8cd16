"""What an alert says: the draft every origin fills in (rules, operators, alarm tests), and the
FR/NL/EN wording of automatic alerts about an object of the picture."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.alerts.enums import (
    CapCategory,
    CapSeverity,
    CapStatus,
    Certainty,
    MsgType,
    Origin,
    Urgency,
)
from app.alerts.phrases import PREFIX, phrase
from app.alerts.workers.rules import Subject
from app.domain.enums import Entity, Language
from app.domain.registry import BY_ENTITY
from app.vocabulary import group_of, label

Texts = dict[str, dict[str, str]]  # language -> {"headline", "description", "instruction"}


@dataclass
class AlertDraft:
    """An alert before it is stored: CAP fields, texts per language, area, provenance."""

    status: CapStatus
    msg_type: MsgType
    severity: CapSeverity
    urgency: Urgency
    certainty: Certainty
    categories: list[CapCategory]
    event: str
    texts: Texts
    area_desc: str
    area: dict[str, Any] | None = None
    area_codes: list[str] = field(default_factory=list)
    references_id: uuid.UUID | None = None
    origin: Origin = Origin.manual
    entity: str | None = None
    entity_id: uuid.UUID | None = None
    entity_ref: str | None = None
    change_seq: int | None = None
    campaign_id: uuid.UUID | None = None
    expires_at: datetime | None = None
    feature: dict[str, Any] | None = None  # the object's state a rule alert is composed from


CATEGORY = {
    "public_order": CapCategory.Security,
    "fire": CapCategory.Fire,
    "explosion": CapCategory.CBRNE,
    "shooting_stabbing": CapCategory.Security,
    "traffic": CapCategory.Transport,
    "hazmat": CapCategory.CBRNE,
    "flooding_storm": CapCategory.Met,
    "utility_outage": CapCategory.Infra,
    "suspicious_package": CapCategory.Security,
    "threat": CapCategory.Security,
    "health": CapCategory.Health,
    "transport_disruption": CapCategory.Transport,
    "traffic_restriction": CapCategory.Transport,
    "route": CapCategory.Transport,
    "first_aid_post": CapCategory.Health,
    "assembly_point": CapCategory.Safety,
    "staging_area": CapCategory.Rescue,
}
ENTITY_CATEGORY = {
    "zone": CapCategory.Security,
    "demonstration": CapCategory.Security,
    "planned_event": CapCategory.Safety,
}


def _certainty(status: str | None) -> Certainty:
    # A report not yet checked by SITCEN is likely; anything confirmed since was observed.
    return Certainty.Likely if status in (None, "reported") else Certainty.Observed


def _urgency(entity: str, props: dict[str, Any], now: datetime) -> Urgency:
    if entity == "incident":
        return Urgency.Immediate
    start = props.get("valid_from") or props.get("starts_at")
    if start and datetime.fromisoformat(start) > now:
        return Urgency.Future
    return Urgency.Expected


def _area_desc(props: dict[str, Any], language: str) -> str:
    names = [
        m.get("name_nl" if language == "nl" else "name_fr", m.get("code", ""))
        for m in props.get("municipalities") or []
    ]
    return ", ".join(n for n in names if n) or "Région de Bruxelles-Capitale"


def _words(subject: Subject, lang: str) -> tuple[str, list[str]]:
    """What the object is (its kind, or its kind of object), and the facts after its ref, in
    the dashboard's words; a word inside a sentence in lower case."""
    spec = BY_ENTITY[Entity(subject.entity)]
    props = subject.properties
    kind = label(group_of(spec.kind_enum), subject.kind, lang) if spec.kind_enum else ""
    # A category or a zone kind says what the object is; an activation's level only grades it.
    names_it = spec.kind_field in ("category", "kind")
    what = kind if names_it and kind else label("entity", subject.entity, lang)
    if subject.op == "deleted":
        status = label("op", "deleted", lang)
    elif spec.status_enum and spec.status_field:
        status = label(group_of(spec.status_enum), props.get(spec.status_field), lang)
    else:
        status = ""
    facts = [x for x in ("" if names_it else kind, status.lower()) if x]
    return what, facts


def _texts(subject: Subject, msg_type: MsgType) -> Texts:
    props = subject.properties
    texts: Texts = {}
    for language in Language:
        lang = language.value
        what, facts = _words(subject, lang)
        severity = label("severity", props.get("severity"), lang).lower()
        head = f"{phrase(PREFIX, msg_type.value, lang)}{what}"
        if severity:
            head += f" ({severity})"
        head += f" — {props.get('title', '')} — {_area_desc(props, lang)}"
        line = " · ".join(
            x for x in (props.get("ref"), *facts, props.get("place") or props.get("venue")) if x
        )
        body = "\n".join(x for x in (line, props.get("description")) if x)
        texts[lang] = {"headline": head[:300], "description": body, "event": what}
    return texts


def from_change(
    subject: Subject,
    msg_type: MsgType,
    *,
    references_id: uuid.UUID | None,
    change_seq: int,
    now: datetime,
) -> AlertDraft:
    """The automatic alert about an object, from its state in `subject`: the change that
    matched the subscriptions, or, for a Cancel to partners that lost sight of the object, the
    state their last alert was composed from."""
    props = subject.properties
    kind = subject.kind
    category = CATEGORY.get(kind or "") or ENTITY_CATEGORY.get(subject.entity, CapCategory.Safety)
    severity = props.get("severity") or "moderate"
    texts = _texts(subject, msg_type)
    return AlertDraft(
        status=CapStatus.Exercise if props.get("exercise") else CapStatus.Actual,
        msg_type=msg_type,
        severity=CapSeverity.of(severity),
        urgency=_urgency(subject.entity, props, now),
        certainty=_certainty(props.get("status")),
        categories=[category],
        event=texts["en"]["event"],
        texts=texts,
        area_desc=_area_desc(props, "fr"),
        area=subject.feature.get("geometry"),
        area_codes=sorted(subject.codes("municipalities")),
        references_id=references_id,
        origin=Origin.rule,
        entity=subject.entity,
        entity_id=subject.id,
        entity_ref=props.get("ref"),
        change_seq=change_seq,
        feature=subject.feature,
    )
