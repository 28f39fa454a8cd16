"""The CAP alert that tells every partner a threat level was set: category Security, its texts
in FR/NL/EN with OCAM/CUTA's own words for the level (app/vocabulary.json), the reason and the
OCAM/CUTA reference; an Update of the alert that announced the level it replaces, a Cancel of
it when a sector's own level is lifted."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.alerts.enums import (
    CapCategory,
    CapSeverity,
    CapStatus,
    Certainty,
    MsgType,
    Origin,
    Urgency,
)
from app.alerts.lifecycle.compose import AlertDraft, Texts
from app.alerts.lifecycle.manual import REGION
from app.domain.enums import Entity, Language
from app.vocabulary import label

BRUSSELS = ZoneInfo("Europe/Brussels")
SEVERITY = {1: CapSeverity.Minor, 2: CapSeverity.Moderate, 3: CapSeverity.Severe}
SEVERITY[4] = CapSeverity.Extreme

# The body's name in each language: OCAM (FR), OCAD (NL), CUTA (EN).
WORDS: dict[str, dict[str, str]] = {
    "event": {
        "fr": "Niveau de la menace OCAM",
        "nl": "Dreigingsniveau OCAD",
        "en": "CUTA threat level",
    },
    "lifted": {
        "fr": "levé : le niveau général s'applique",
        "nl": "opgeheven: het algemene niveau geldt",
        "en": "lifted: the general level applies",
    },
    "general": {"fr": "général", "nl": "algemeen", "en": "general"},
    "previous": {"fr": "Niveau précédent", "nl": "Vorig niveau", "en": "Previous level"},
    "reason": {"fr": "Motif", "nl": "Reden", "en": "Reason"},
    "reference": {"fr": "Référence OCAM", "nl": "Referentie OCAD", "en": "CUTA reference"},
    "recorded": {"fr": "Enregistré le", "nl": "Geregistreerd op", "en": "Recorded on"},
    "by": {"fr": "par", "nl": "door", "en": "by"},
    "instruction": {
        "fr": "Appliquez les mesures que vos plans prévoient pour ce niveau de la menace.",
        "nl": "Pas de maatregelen toe die uw plannen voor dit dreigingsniveau voorzien.",
        "en": "Apply the measures your plans provide for this threat level.",
    },
}


def level_words(level: int | None, lang: str) -> str:
    """`3 (grave)`: the level and OCAM/CUTA's name for it."""
    if level is None:
        return ""
    return f"{level} ({label('threat_level', str(level), lang).lower()})"


def subject_words(record: dict[str, Any], lang: str) -> str:
    """What a setting grades: the sector and the target, or `general`."""
    what = [label("threat_sector", record.get("sector"), lang), record.get("target") or ""]
    return " · ".join(w for w in what if w) or WORDS["general"][lang]


def title(record: dict[str, Any]) -> str:
    """The setting's title, in French and Dutch (the feed and lists show it)."""
    parts = []
    for lang in ("fr", "nl"):
        level = (
            level_words(record.get("level"), lang) or WORDS["lifted"][lang].split(":")[0].strip()
        )
        parts.append(f"{WORDS['event'][lang]} {level} — {subject_words(record, lang)}")
    return " / ".join(parts)[:200]


def _texts(record: dict[str, Any], previous: dict[str, Any] | None) -> Texts:
    texts: Texts = {}
    at = datetime.fromisoformat(record["set_at"]).astimezone(BRUSSELS)
    for language in Language:
        lang = language.value
        level = record.get("level")
        now = level_words(level, lang) if level is not None else WORDS["lifted"][lang]
        head = (
            f"{WORDS['event'][lang]} : {now}" if lang == "fr" else f"{WORDS['event'][lang]}: {now}"
        )
        head += f" — {subject_words(record, lang)}"
        lines = []
        if previous is not None and previous.get("level") is not None:
            lines.append(f"{WORDS['previous'][lang]}: {level_words(previous['level'], lang)}")
        lines += [
            f"{WORDS['reason'][lang]}: {record['reason']}",
            f"{WORDS['reference'][lang]}: {record['source_reference']}",
            f"{WORDS['recorded'][lang]} {at:%d/%m/%Y %H:%M} {WORDS['by'][lang]} {record['set_by']}",
        ]
        texts[lang] = {
            "headline": head[:300],
            "description": "\n".join(lines),
            "instruction": WORDS["instruction"][lang],
            "event": WORDS["event"][lang],
        }
    return texts


def draft(
    record: dict[str, Any],
    previous: dict[str, Any] | None,
    references_id: uuid.UUID | None,
) -> AlertDraft:
    """The alert about `record`; `previous`, the setting of the same key it replaces, whose
    alert (`references_id`) it updates or, for a lifted level, cancels."""
    level = record.get("level")
    if level is None:
        msg_type = MsgType.Cancel if references_id else MsgType.Alert
    else:
        msg_type = MsgType.Update if references_id else MsgType.Alert
    texts = _texts(record, previous)
    return AlertDraft(
        status=CapStatus.Actual,
        msg_type=msg_type,
        severity=SEVERITY.get(level or 0, CapSeverity.Minor),
        urgency=Urgency.Immediate,
        certainty=Certainty.Observed,
        categories=[CapCategory.Security],
        event=texts["en"]["event"],
        texts=texts,
        area_desc=REGION,
        references_id=references_id,
        origin=Origin.threat_level,
        entity=Entity.threat_level.value,
        entity_id=uuid.UUID(record["id"]),
        entity_ref=record["ref"],
    )
