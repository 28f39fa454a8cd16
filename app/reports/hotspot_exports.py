"""The hotspot fiches and their comparison as a reader takes them away: PDF (Jinja2 HTML with
matplotlib's SVG charts, printed by WeasyPrint) and CSV, in the reader's language, times in
Brussels.

Both are made from what app.reports.hotspots answered for that reader: they show nothing the
JSON did not. The PDF is drawn and printed in the bounded CPU pool (app.cpu); every CSV cell
goes through app.text.csv_cell, so a title such as `=cmd|…` is text in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from app import cpu, printing
from app.domain.enums import Language
from app.reports import charts
from app.text import csv_cell
from app.vocabulary import label

BRUSSELS = ZoneInfo("Europe/Brussels")
TEMPLATES = Path(__file__).with_name("templates")

WORDS: dict[str, dict[str, str]] = {
    "fiche": {"fr": "Fiche hotspot", "nl": "Hotspotfiche", "en": "Hotspot fiche"},
    "comparison": {
        "fr": "Comparaison des hotspots",
        "nl": "Vergelijking van de hotspots",
        "en": "Hotspot comparison",
    },
    "period": {"fr": "Période", "nl": "Periode", "en": "Period"},
    "previous": {"fr": "Période précédente", "nl": "Vorige periode", "en": "Previous period"},
    "incidents": {"fr": "Incidents", "nl": "Incidenten", "en": "Incidents"},
    "per_week": {
        "fr": "Incidents par semaine",
        "nl": "Incidenten per week",
        "en": "Incidents per week",
    },
    "this_period": {"fr": "Cette période", "nl": "Deze periode", "en": "This period"},
    "change": {"fr": "Évolution", "nl": "Verschil", "en": "Change"},
    "trend": {"fr": "Tendance", "nl": "Trend", "en": "Trend"},
    "weekly": {"fr": "Par semaine", "nl": "Per week", "en": "Weekly"},
    "hotspot": {"fr": "Hotspot", "nl": "Hotspot", "en": "Hotspot"},
    "municipality": {"fr": "Commune", "nl": "Gemeente", "en": "Municipality"},
    "measures": {"fr": "Mesures de police", "nl": "Politiemaatregelen", "en": "Police measures"},
    "measures_in_force": {
        "fr": "Mesures en vigueur",
        "nl": "Maatregelen van kracht",
        "en": "Measures in force",
    },
    "expiring": {"fr": "dont expirant", "nl": "waarvan aflopend", "en": "of which expiring"},
    "open_tasks": {"fr": "Tâches ouvertes", "nl": "Open taken", "en": "Open tasks"},
    "kind": {"fr": "Type", "nl": "Soort", "en": "Kind"},
    "legal_basis": {"fr": "Base légale", "nl": "Rechtsgrond", "en": "Legal basis"},
    "reference": {"fr": "Référence", "nl": "Referentie", "en": "Reference"},
    "authority": {"fr": "Autorité", "nl": "Overheid", "en": "Authority"},
    "validity": {"fr": "Validité", "nl": "Geldigheid", "en": "Validity"},
    "extended": {"fr": "Prolongée jusqu'au", "nl": "Verlengd tot", "en": "Extended until"},
    "tasks": {
        "fr": "Actions et tâches de la task force locale",
        "nl": "Acties en taken van de lokale taskforce",
        "en": "Actions and tasks of the local task force",
    },
    "task": {"fr": "Tâche", "nl": "Taak", "en": "Task"},
    "owner": {"fr": "Responsable", "nl": "Verantwoordelijke", "en": "Owner"},
    "due": {"fr": "Échéance", "nl": "Deadline", "en": "Due"},
    "status": {"fr": "Statut", "nl": "Status", "en": "Status"},
    "overdue": {"fr": "en retard", "nl": "te laat", "en": "overdue"},
    "notes": {"fr": "Notes d'évaluation", "nl": "Evaluatienota's", "en": "Evaluation notes"},
    "by": {"fr": "par", "nl": "door", "en": "by"},
    "corrected": {"fr": "corrigée par", "nl": "verbeterd door", "en": "corrected by"},
    "recent": {"fr": "Derniers incidents", "nl": "Laatste incidenten", "en": "Latest incidents"},
    "none": {"fr": "Aucun", "nl": "Geen", "en": "None"},
    "printed": {"fr": "Imprimé le", "nl": "Afgedrukt op", "en": "Printed on"},
    "times": {"fr": "heures de Bruxelles", "nl": "Brusselse tijd", "en": "Brussels time"},
    "as_at": {"fr": "Validité au", "nl": "Geldigheid op", "en": "Validity as at"},
    "week_of": {"fr": "Semaine du", "nl": "Week van", "en": "Week of"},
}


def _when(value: str | None) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(BRUSSELS).strftime("%d/%m/%Y %H:%M")


def _day(value: str | None) -> str:
    if not value:
        return ""
    parsed = datetime.fromisoformat(value)
    if isinstance(parsed, datetime) and parsed.tzinfo is not None:
        parsed = parsed.astimezone(BRUSSELS)
    return parsed.strftime("%d/%m/%Y")


def _local(value: str | None) -> str:
    """An ISO time as Brussels local time with its offset, for a CSV reader."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(BRUSSELS).isoformat(timespec="minutes")


def _municipality(row: dict[str, Any], lang: Language) -> str:
    names = []
    for m in row.get("municipalities") or []:
        name = m.get(f"name_{lang.value}") or m.get("name_fr") or m.get("name") or m.get("code")
        names.append(str(name))
    return ", ".join(names)


def _words(lang: Language) -> dict[str, str]:
    return {k: v[lang.value] for k, v in WORDS.items()}


def _period_text(period: dict[str, Any], lang: Language) -> tuple[str, str]:
    return (
        f"{_day(period['from'])} – {_day(period['to'])}",
        f"{_day(period['previous_from'])} – {_day(period['previous_to'])}",
    )


def fiche_context(data: dict[str, Any], lang: Language) -> dict[str, Any]:
    """What the printed fiche shows, labelled in `lang`, times in Brussels."""
    incidents = data["incidents"]
    period, previous = _period_text(data["period"], lang)
    return {
        "lang": lang.value,
        "w": _words(lang),
        "hotspot": {**data["hotspot"], "municipality": _municipality(data["hotspot"], lang)},
        "period": period,
        "previous_period": previous,
        "at": _when(data["at"]),
        "weeks": [_day(w) for w in data["period"]["weeks"]],
        "week_ticks": [date.fromisoformat(w).strftime("%d/%m") for w in data["period"]["weeks"]],
        "incidents": {
            **incidents,
            "trend_label": label("trend", incidents["trend"], lang),
            "recent": [
                {
                    **r,
                    "when": _when(r["at"]),
                    "category_label": label("category", r["category"], lang),
                    "severity_label": label("severity", r["severity"], lang),
                }
                for r in incidents["recent"]
            ],
        },
        "measures": [
            {
                **m,
                "kind_label": label("measure_kind", m["kind"], lang),
                "validity_label": label("measure_validity", m["validity"], lang),
                "from": _day(m["valid_from"]),
                "to": _day(m["valid_to"]),
                "until": _day(m["valid_until"]),
                "extensions": [
                    {**e, "until_day": _day(e["until"]), "decided_day": _day(e["decided_at"])}
                    for e in m["extensions"]
                ],
            }
            for m in data["measures"]
        ],
        "tasks": [
            {
                **t,
                "status_label": label("task_status", t["status"], lang),
                "due": _when(t["due_at"]),
                "owner": t["owner_organisation"] or t["owner_user"] or "",
            }
            for t in data["tasks"]
        ],
        "notes": [{**n, "when": _day(n["noted_at"])} for n in data["notes"]],
        "printed_at": datetime.now(BRUSSELS).strftime("%d/%m/%Y %H:%M"),
    }


def comparison_context(data: dict[str, Any], lang: Language) -> dict[str, Any]:
    period, previous = _period_text(data["period"], lang)
    return {
        "lang": lang.value,
        "w": _words(lang),
        "period": period,
        "previous_period": previous,
        "at": _when(data["at"]),
        "hotspots": [
            {
                **h,
                "municipality": _municipality(h, lang),
                "trend_label": label("trend", h["trend"], lang),
            }
            for h in data["hotspots"]
        ],
        "printed_at": datetime.now(BRUSSELS).strftime("%d/%m/%Y %H:%M"),
    }


# ---- PDF -------------------------------------------------------------------------------------


def _fiche_html(context: dict[str, Any]) -> str:
    # Our own SVG, drawn from numbers and dates: trusted markup, unlike every other value.
    chart = charts.weekly_bars(
        context["week_ticks"], context["incidents"]["weekly"], context["w"]["per_week"]
    )
    return (
        printing.templates(TEMPLATES)
        .get_template("hotspot.html")
        .render(**context, chart=Markup(chart))
    )


def _comparison_html(context: dict[str, Any]) -> str:
    lines = {h["id"]: Markup(charts.sparkline(h["weekly"])) for h in context["hotspots"]}
    return (
        printing.templates(TEMPLATES)
        .get_template("hotspots.html")
        .render(**context, sparklines=lines)
    )


def _fiche_pdf(context: dict[str, Any]) -> bytes:
    return printing.pdf(_fiche_html(context))


def _comparison_pdf(context: dict[str, Any]) -> bytes:
    return printing.pdf(_comparison_html(context))


async def fiche_pdf(context: dict[str, Any]) -> bytes:
    """The fiche as PDF: chart drawn and page printed in the CPU pool."""
    return await cpu.run(_fiche_pdf, context)


async def comparison_pdf(context: dict[str, Any]) -> bytes:
    return await cpu.run(_comparison_pdf, context)


# ---- CSV -------------------------------------------------------------------------------------


def _csv(header: list[str], rows: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


FICHE_COLUMNS = ["section", "ref", "title", "start", "end", "status", "count", "by", "detail"]


def fiche_csv(data: dict[str, Any], lang: Language) -> str:
    """The fiche as one table: a row for the hotspot (this period's total), one per week, one
    per measure, task and note; `section` says which. Times in Brussels with their offset."""
    h, period, incidents = data["hotspot"], data["period"], data["incidents"]
    rows: list[list[Any]] = [
        [
            "hotspot",
            h["ref"],
            h["title"],
            period["from"],
            period["to"],
            label("trend", incidents["trend"], lang),
            incidents["current"],
            "",
            f"{incidents['previous']} ({period['previous_from']} – {period['previous_to']})",
        ]
    ]
    for week, n in zip(period["weeks"], incidents["weekly"], strict=True):
        end = date.fromordinal(date.fromisoformat(week).toordinal() + 6).isoformat()
        rows.append(["week", "", "", week, end, "", n, "", ""])
    for m in data["measures"]:
        detail = " | ".join(
            part
            for part in (
                label("measure_kind", m["kind"], lang),
                m["legal_basis"],
                m["reference"] or "",
                *(f"+{e['reference']} → {_local(e['until'])}" for e in m["extensions"]),
            )
            if part
        )
        rows.append(
            [
                "measure",
                m["ref"],
                m["title"],
                _local(m["valid_from"]),
                _local(m["valid_until"]),
                label("measure_validity", m["validity"], lang),
                len(m["extensions"]),
                m["authority"] or "",
                detail,
            ]
        )
    for t in data["tasks"]:
        rows.append(
            [
                "task",
                t["ref"],
                t["title"],
                "",
                _local(t["due_at"]),
                label("task_status", t["status"], lang),
                "",
                t["owner_organisation"] or t["owner_user"] or "",
                "",
            ]
        )
    for n in data["notes"]:
        rows.append(
            [
                "note",
                n["ref"],
                n["title"],
                _local(n["noted_at"]),
                "",
                "",
                "",
                n["author"],
                n["text"] or "",
            ]
        )
    return _csv(FICHE_COLUMNS, rows)


def comparison_csv(data: dict[str, Any], lang: Language) -> str:
    """One row per hotspot: totals of both periods, change, trend, measures, open tasks, then
    a column per week (headed by its Monday)."""
    weeks = data["period"]["weeks"]
    header = [
        "ref",
        "title",
        "municipality",
        "from",
        "to",
        "incidents",
        "previous",
        "change",
        "trend",
        "measures_in_force",
        "measures_expiring",
        "open_tasks",
        *weeks,
    ]
    rows = [
        [
            h["ref"],
            h["title"],
            _municipality(h, lang),
            data["period"]["from"],
            data["period"]["to"],
            h["current"],
            h["previous"],
            h["change"],
            label("trend", h["trend"], lang),
            h["measures_in_force"],
            h["measures_expiring"],
            h["open_tasks"],
            *h["weekly"],
        ]
        for h in data["hotspots"]
    ]
    return _csv(header, rows)
