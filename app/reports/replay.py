"""A replay window as a report for an after-action review: the picture at its start, every change
in it in order (when, in Europe/Brussels time, who, what), the timeline's bookmarks and the
counts; HTML with a print stylesheet, and its PDF, in the reader's language.

Scoped like the feed: a partner's report holds what the partner saw at each instant, and the
records that took an object out of its sight as "removed". Bounded: a window with more objects or
changes than a person reads is refused (413) rather than printed in part.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app import cpu, printing
from app.domain import changes, timeline, timetravel
from app.domain.enums import Entity, Language
from app.domain.objects import ListFilter
from app.domain.registry import BY_ENTITY
from app.domain.spec import EntitySpec
from app.domain.visibility import Scope
from app.errors import payload_too_large, validation_problem
from app.vocabulary import group_of, label

BRUSSELS = ZoneInfo("Europe/Brussels")
TEMPLATES = Path(__file__).with_name("templates")

# The picture at the start: the kinds on the map and the activations (the cell's own records
# are in the changes).
PICTURE_KINDS = (
    Entity.incident,
    Entity.planned_event,
    Entity.demonstration,
    Entity.zone,
    Entity.activation,
)
# What one report holds at most; beyond, the reader narrows the window.
# Per kind, in the picture at the start: listed up to this many, the report saying so beyond
# (a year of the watch holds far more; what the window changed is the report's point).
MAX_OBJECTS = 1000
MAX_CHANGES = 5000  # in the window, as the reader sees them
_PAGE = 1000

WORDS: dict[str, dict[str, str]] = {
    "title": {
        "fr": "Rejeu de la situation — rapport pour le retour d'expérience",
        "nl": "Herafspeling van de toestand — verslag voor de evaluatie",
        "en": "Replay of the picture — after-action review report",
    },
    "window": {"fr": "Période", "nl": "Periode", "en": "Window"},
    "to": {"fr": "au", "nl": "tot", "en": "to"},
    "reader": {"fr": "Lu par", "nl": "Gelezen door", "en": "Read by"},
    "picture_at": {"fr": "Situation au", "nl": "Toestand op", "en": "Picture at"},
    "changes": {"fr": "Changements", "nl": "Wijzigingen", "en": "Changes"},
    "bookmarks": {"fr": "Signets", "nl": "Bladwijzers", "en": "Bookmarks"},
    "counts": {"fr": "Décompte", "nl": "Telling", "en": "Counts"},
    "time": {"fr": "Heure", "nl": "Tijd", "en": "Time"},
    "who": {"fr": "Qui", "nl": "Wie", "en": "Who"},
    "what": {"fr": "Quoi", "nl": "Wat", "en": "What"},
    "kind": {"fr": "Type", "nl": "Soort", "en": "Kind"},
    "object": {"fr": "Objet", "nl": "Object", "en": "Object"},
    "status": {"fr": "Statut", "nl": "Status", "en": "Status"},
    "none": {"fr": "Aucun", "nl": "Geen", "en": "None"},
    "truncated": {
        "fr": "Plus de {n} : les {n} premiers sont listés.",
        "nl": "Meer dan {n}: de eerste {n} worden vermeld.",
        "en": "More than {n}: the first {n} are listed.",
    },
    "total": {"fr": "Total", "nl": "Totaal", "en": "Total"},
    "created": {"fr": "créé", "nl": "aangemaakt", "en": "created"},
    "updated": {"fr": "modifié", "nl": "gewijzigd", "en": "updated"},
    "deleted": {"fr": "supprimé", "nl": "verwijderd", "en": "deleted"},
    "removed": {"fr": "plus partagé", "nl": "niet meer gedeeld", "en": "no longer shared"},
    "decision": {"fr": "Décision", "nl": "Beslissing", "en": "Decision"},
    "phase": {"fr": "Phase", "nl": "Fase", "en": "Phase"},
    "sitrep": {"fr": "SITREP", "nl": "SITREP", "en": "SITREP"},
    "threat_level": {
        "fr": "Niveau de la menace (OCAM)",
        "nl": "Dreigingsniveau (OCAD)",
        "en": "Threat level (OCAM/CUTA)",
    },
    "generated": {"fr": "Établi le", "nl": "Opgemaakt op", "en": "Generated on"},
}


@dataclass
class Report:
    start: datetime
    end: datetime
    reader: str
    picture: dict[str, list[dict[str, Any]]]
    changes: list[dict[str, Any]]
    bookmarks: list[timeline.Bookmark]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    # Kinds of the picture at the start with more objects than MAX_OBJECTS (the rest unlisted).
    truncated: frozenset[str] = frozenset()


def _too_many(what: str, limit: int) -> Exception:
    return payload_too_large(
        f"the replay window holds more than {limit} {what}: ask for a shorter window",
        max_rows=limit,
    )


async def build(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime, reader: str
) -> Report:
    """The report of the window (start, end] as this scope saw it."""
    if end <= start:
        raise validation_problem([{"loc": ["query", "end"], "msg": "must be after start"}])
    await timetravel.require_kept(session, start)
    picture: dict[str, list[dict[str, Any]]] = {}
    truncated: set[str] = set()
    for entity in PICTURE_KINDS:
        if scope.entities is not None and entity.value not in scope.entities:
            continue
        spec = BY_ENTITY[entity]
        features, more = await timetravel.page_at(
            session, spec, start, ongoing(spec, start, end), scope, MAX_OBJECTS, None
        )
        if more:
            truncated.add(entity.value)
        picture[entity.value] = features
    seen: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await changes.window_records(session, start, end, after, _PAGE)
        seen.extend(await changes.visible_messages(session, page, scope))
        if len(seen) > MAX_CHANGES:
            raise _too_many("changes", MAX_CHANGES)
        if len(page) < _PAGE:
            break
        after = page[-1].seq
    marks = await timeline.bookmarks(session, start, end, scope)
    if marks is None:
        raise _too_many("bookmarks", timeline.MAX_BOOKMARKS)
    counts: dict[str, Counter[str]] = {}
    for c in seen:
        counts.setdefault(c["entity"], Counter())[c["op"]] += 1
    return Report(
        start,
        end,
        reader,
        picture,
        seen,
        marks,
        {e: dict(n) for e, n in sorted(counts.items())},
        frozenset(truncated),
    )


def ongoing(spec: EntitySpec, start: datetime, end: datetime) -> ListFilter:
    """What the picture at the start holds: objects not ended then (no closed incident, no
    lifted zone) whose own time window, if they have one, meets the report's."""
    status = None
    if spec.status_enum is not None and spec.closing:
        status = [s.value for s in spec.status_enum if s.value not in spec.closing]
    return ListFilter(status=status, start=start, end=end)


def _when(value: datetime | str) -> str:
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.astimezone(BRUSSELS).strftime("%d/%m/%Y %H:%M:%S")


def _status(entity: str, props: dict[str, Any], lang: str) -> str:
    spec = BY_ENTITY.get(Entity(entity)) if entity in Entity.__members__ else None
    if spec is None or spec.status_field is None:
        return ""
    value = props.get(spec.status_field)
    if spec.status_enum is None:
        return "" if value is None else str(value)
    return label(group_of(spec.status_enum), value, lang)


def _what(change: dict[str, Any], lang: str) -> str:
    feature = change.get("feature")
    if feature is None:
        return ""
    props = feature["properties"]
    title = str(props.get("title") or props.get("ref") or "")
    status = _status(change["entity"], props, lang)
    return f"{title} ({status})" if status else title


def html_document(report: Report, lang: Language) -> str:
    code = lang.value
    w = {k: v[code] for k, v in WORDS.items()}
    entity_label = {e.value: label("entity", e.value, code) for e in Entity}

    def entity_name(name: str) -> str:
        return entity_label.get(name, name.replace("_", " "))

    picture = [
        {
            "kind": entity_name(entity),
            "more": entity in report.truncated,
            "rows": [
                {
                    "ref": f["properties"].get("ref", ""),
                    "title": f["properties"].get("title", ""),
                    "status": _status(entity, f["properties"], code),
                }
                for f in features
            ],
        }
        for entity, features in report.picture.items()
    ]
    rows = [
        {
            "seq": c["seq"],
            "at": _when(c["at"]),
            "by": c.get("by") or "",
            "op": w.get(c["op"], c["op"]),
            "kind": entity_name(c["entity"]),
            "what": _what(c, code),
        }
        for c in report.changes
    ]
    marks = [
        {
            "at": _when(m.at),
            "kind": w.get(m.kind, m.kind),
            "title": m.title,
            "value": m.value or "",
            "by": m.by,
        }
        for m in report.bookmarks
    ]
    counts = [
        {"kind": entity_name(e), "ops": {w.get(op, op): n for op, n in ops.items()}}
        for e, ops in report.counts.items()
    ]
    template = printing.templates(TEMPLATES).get_template("replay.html")
    return template.render(
        lang=code,
        w=w,
        start=_when(report.start),
        end=_when(report.end),
        reader=report.reader,
        picture=picture,
        changes=rows,
        bookmarks=marks,
        counts=counts,
        total=len(report.changes),
        truncated=w["truncated"].replace("{n}", str(MAX_OBJECTS)),
    )


def pdf_document(report: Report, lang: Language) -> bytes:
    return printing.pdf(html_document(report, lang))


async def render_html(report: Report, lang: Language) -> str:
    return await cpu.run(html_document, report, lang)


async def render_pdf(report: Report, lang: Language) -> bytes:
    return await cpu.run(pdf_document, report, lang)
