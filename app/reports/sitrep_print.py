"""A SITREP on paper and on screen: HTML with a print stylesheet, PDF (WeasyPrint), and its map
(app.reports.svgmap), in the reader's language, from one reader's View (app.reports.sitrep).

The map, the HTML and the PDF are drawn in the bounded CPU pool (app.cpu): a SITREP of a few
hundred objects takes a second or more, and the event loop keeps serving everyone meanwhile.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncSession

from app import cpu, printing
from app.domain.enums import SEVERITY_ORDER, Language
from app.geo.crs import LAMBERT72
from app.geo.reference import layer_features
from app.reports import svgmap
from app.reports.sitrep import MAX_ITEMS, View
from app.vocabulary import label

BRUSSELS = ZoneInfo("Europe/Brussels")
TEMPLATES = Path(__file__).with_name("templates")

WORDS: dict[str, dict[str, str]] = {
    "cut": {
        "fr": "plus de {n} : seuls les {n} plus récents sont repris et comptés",
        "nl": "meer dan {n}: alleen de {n} meest recente zijn opgenomen en geteld",
        "en": "more than {n}: only the {n} most recent are listed and counted",
    },
    "sitrep": {"fr": "Rapport de situation", "nl": "Situatierapport", "en": "Situation report"},
    "number": {"fr": "N°", "nl": "Nr.", "en": "No."},
    "daily": {"fr": "Série quotidienne", "nl": "Dagelijkse reeks", "en": "Daily series"},
    "activation": {"fr": "Activation", "nl": "Activering", "en": "Activation"},
    "picture_at": {"fr": "Situation au", "nl": "Toestand op", "en": "Situation at"},
    "since": {"fr": "Changements depuis", "nl": "Wijzigingen sinds", "en": "Changes since"},
    "status": {"fr": "Statut", "nl": "Status", "en": "Status"},
    "version": {"fr": "Version", "nl": "Versie", "en": "Version"},
    "approved": {"fr": "Approuvé par", "nl": "Goedgekeurd door", "en": "Approved by"},
    "not_approved": {
        "fr": "Projet : pas encore approuvé",
        "nl": "Ontwerp: nog niet goedgekeurd",
        "en": "Draft: not approved yet",
    },
    "summary": {"fr": "Synthèse de la situation", "nl": "Samenvatting", "en": "Situation summary"},
    "figures": {"fr": "Chiffres clés", "nl": "Kerncijfers", "en": "Key figures"},
    "open_incidents": {"fr": "Incidents ouverts", "nl": "Open incidenten", "en": "Open incidents"},
    "active_zones": {
        "fr": "Zones et périmètres actifs",
        "nl": "Actieve zones en perimeters",
        "en": "Active zones and perimeters",
    },
    "events_today": {
        "fr": "Événements planifiés du jour",
        "nl": "Geplande evenementen vandaag",
        "en": "Planned events today",
    },
    "demonstrations_today": {
        "fr": "Manifestations du jour",
        "nl": "Betogingen vandaag",
        "en": "Demonstrations today",
    },
    "decisions": {"fr": "Décisions", "nl": "Beslissingen", "en": "Decisions"},
    "open_tasks": {"fr": "Tâches ouvertes", "nl": "Open taken", "en": "Open tasks"},
    "overdue_tasks": {
        "fr": "Tâches en retard",
        "nl": "Achterstallige taken",
        "en": "Overdue tasks",
    },
    "changes": {"fr": "Changements", "nl": "Wijzigingen", "en": "Changes"},
    "by_municipality": {
        "fr": "Incidents ouverts par commune et gravité",
        "nl": "Open incidenten per gemeente en ernst",
        "en": "Open incidents by municipality and severity",
    },
    "municipality": {"fr": "Commune", "nl": "Gemeente", "en": "Municipality"},
    "total": {"fr": "Total", "nl": "Totaal", "en": "Total"},
    "map": {"fr": "Carte", "nl": "Kaart", "en": "Map"},
    "ref": {"fr": "Réf.", "nl": "Ref.", "en": "Ref."},
    "title": {"fr": "Intitulé", "nl": "Titel", "en": "Title"},
    "category": {"fr": "Catégorie", "nl": "Categorie", "en": "Category"},
    "severity": {"fr": "Gravité", "nl": "Ernst", "en": "Severity"},
    "kind": {"fr": "Type", "nl": "Soort", "en": "Kind"},
    "window": {"fr": "Période", "nl": "Periode", "en": "Time window"},
    "when": {"fr": "Quand", "nl": "Wanneer", "en": "When"},
    "what": {"fr": "Quoi", "nl": "Wat", "en": "What"},
    "by": {"fr": "Par", "nl": "Door", "en": "By"},
    "decided_by": {"fr": "Décidé par", "nl": "Beslist door", "en": "Decided by"},
    "basis": {"fr": "Motif", "nl": "Grond", "en": "Basis"},
    "owner": {"fr": "Responsable", "nl": "Verantwoordelijke", "en": "Owner"},
    "due": {"fr": "Échéance", "nl": "Termijn", "en": "Due"},
    "overdue": {"fr": "en retard", "nl": "achterstallig", "en": "overdue"},
    "next_steps": {"fr": "Prochaines étapes", "nl": "Volgende stappen", "en": "Next steps"},
    "none": {"fr": "Aucun", "nl": "Geen", "en": "None"},
    "more_changes": {
        "fr": "autres changements non repris",
        "nl": "andere wijzigingen niet opgenomen",
        "en": "more changes not listed",
    },
    "for": {"fr": "Version pour", "nl": "Versie voor", "en": "Version for"},
    "internal": {
        "fr": "Version complète (usage interne SITCEN)",
        "nl": "Volledige versie (intern gebruik SITCEN)",
        "en": "Full version (SITCEN internal use)",
    },
    "hidden": {
        "fr": "non partagé avec vous",
        "nl": "niet met u gedeeld",
        "en": "not shared with you",
    },
    "printed": {"fr": "Imprimé le", "nl": "Afgedrukt op", "en": "Printed on"},
    "times": {"fr": "Heures de Bruxelles", "nl": "Brusselse tijd", "en": "Brussels time"},
    "text_language": {
        "fr": "Texte libre rédigé en",
        "nl": "Vrije tekst opgesteld in het",
        "en": "Free text written in",
    },
    "language": {"fr": "français", "nl": "Nederlands", "en": "English"},
    "legend": {"fr": "Légende", "nl": "Legende", "en": "Legend"},
    "events": {"fr": "Événements", "nl": "Evenementen", "en": "Events"},
    "demonstrations": {"fr": "Manifestations", "nl": "Betogingen", "en": "Demonstrations"},
    "zones": {"fr": "Zones", "nl": "Zones", "en": "Zones"},
    "police_zones": {"fr": "Zones de police", "nl": "Politiezones", "en": "Police zones"},
    "threat": {
        "fr": "Niveau de la menace (OCAM)",
        "nl": "Dreigingsniveau (OCAD)",
        "en": "Threat level (CUTA)",
    },
    "threat_general": {"fr": "général", "nl": "algemeen", "en": "general"},
    "threat_none": {
        "fr": "aucun niveau enregistré",
        "nl": "geen niveau geregistreerd",
        "en": "no level recorded",
    },
    "threat_set": {"fr": "fixé le", "nl": "vastgesteld op", "en": "set on"},
    "threat_ref": {"fr": "réf.", "nl": "ref.", "en": "ref."},
}

SEVERITY_COLOUR = {
    "minor": "#f2c500",
    "moderate": "#f08c00",
    "severe": "#d9480f",
    "extreme": "#a50026",
}
ZONE_COLOUR = {
    "red_zone": "#d7191c",
    "security_perimeter": "#e66101",
    "drone_ban": "#7b3294",
    "traffic_restriction": "#b35806",
    "route": "#2b83ba",
    "hotspot": "#8c510a",
}
ZONE_DEFAULT = "#1a9850"
EVENT_COLOUR, DEMONSTRATION_COLOUR = "#1f78b4", "#6a3d9a"


def when(value: str | None) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(BRUSSELS).strftime("%d/%m/%Y %H:%M")


def _name(area: dict[str, Any] | None, lang: str) -> str:
    if not area:
        return ""
    return str(area.get("name_nl" if lang == "nl" else "name_fr") or area.get("code") or "")


async def reference(session: AsyncSession) -> dict[str, list[dict[str, Any]]]:
    """The reference layers the map is drawn on, in Lambert 72 (app.geo.reference)."""
    return {
        layer: await layer_features(session, layer, crs=LAMBERT72)
        for layer in ("municipality", "police_zone")
    }


def _object_layers(view: View, lang: str) -> list[svgmap.Layer]:
    zones = svgmap.Layer("zones")
    for z in view.content["zones"]:
        if not z.get("geometry"):
            continue
        colour = ZONE_COLOUR.get(z.get("kind") or "", ZONE_DEFAULT)
        line = (z["geometry"].get("type") or "").endswith("LineString")
        style = svgmap.Style(
            fill="none" if line else colour,
            stroke=colour,
            width=2.5 if line else 1.2,
            opacity=0.25,
        )
        zones.shapes.append(svgmap.Shape(svgmap.project(z["geometry"]), style, title=z["ref"]))
    layers = [zones]
    for key, colour in (("events", EVENT_COLOUR), ("demonstrations", DEMONSTRATION_COLOUR)):
        layer = svgmap.Layer(key)
        for e in view.content[key]:
            if e.get("geometry"):
                style = svgmap.Style(fill=colour, stroke=colour, opacity=0.35, width=1.5, radius=5)
                layer.shapes.append(
                    svgmap.Shape(svgmap.project(e["geometry"]), style, title=e["ref"])
                )
        layers.append(layer)
    incidents = svgmap.Layer("incidents")
    # The gravest drawn last, on top.
    rank = {s.value: n for n, s in enumerate(SEVERITY_ORDER)}
    for i in sorted(view.content["incidents"], key=lambda i: rank.get(i.get("severity") or "", 0)):
        if i.get("geometry"):
            colour = SEVERITY_COLOUR.get(i.get("severity") or "", "#666666")
            style = svgmap.Style(fill=colour, stroke=svgmap.EDGE, width=1, radius=4.5, opacity=0.9)
            incidents.shapes.append(
                svgmap.Shape(svgmap.project(i["geometry"]), style, title=i["ref"])
            )
    layers.append(incidents)
    return layers


def draw_map(
    view: View, ref_layers: dict[str, list[dict[str, Any]]], lang: str, merge: bool = False
) -> str:
    """The map of what this reader sees, on the municipalities and police zones (CPU work);
    `merge` for print (svgmap.draw)."""
    municipalities = svgmap.Layer("municipality")
    for m in ref_layers.get("municipality", []):
        style = svgmap.Style(fill="#ffffff", stroke="#a7b1bf", width=0.6)
        municipalities.shapes.append(
            svgmap.Shape(shape(m["geometry"]), style, label=_name(m["properties"], lang))
        )
    police = svgmap.Layer("police_zone")
    for z in ref_layers.get("police_zone", []):
        police.shapes.append(
            svgmap.Shape(shape(z["geometry"]), svgmap.Style(stroke="#4a5a70", width=1.6))
        )
    frame = svgmap.bounds_of([municipalities, police])
    objects = _object_layers(view, lang)
    return svgmap.draw(
        [municipalities, police, *objects],
        width=760,
        extent=frame,
        label_size=7.5,
        title=f"{WORDS['map'][lang]} — {view.feature['properties']['ref']}",
        merge=merge,
    )


def _rows(items: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    out = []
    for i in items:
        out.append(
            {
                **i,
                "where": _name(i.get("municipality"), lang),
                "category_label": label("category", i.get("category"), lang),
                "severity_label": label("severity", i.get("severity"), lang),
                "status_label": "",
                "zone_kind": label("zone_kind", i.get("kind"), lang),
                "event_kind": label("event_kind", i.get("kind"), lang),
                "from": when(i.get("starts_at") or i.get("valid_from")),
                "to": when(i.get("ends_at") or i.get("valid_to")),
                "decided_at_text": when(i.get("decided_at")),
                "due_text": when(i.get("due_at")),
            }
        )
    return out


def _status(entity: str, status: str | None, lang: str) -> str:
    group = {
        "incident": "incident_status",
        "zone": "zone_status",
        "planned_event": "event_status",
        "demonstration": "event_status",
        "task": "task_status",
        "activation": "activation_status",
        "position": "presence",
    }.get(entity)
    return label(group, status, lang) if group and status else ""


def _threat(standing: dict[str, Any] | None, lang: str) -> list[dict[str, str]] | None:
    """The threat level at the picture's time, a line per level (general first); None for a
    SITREP generated before the level was recorded."""
    if standing is None:
        return None
    lines = []
    for record in [standing.get("general"), *standing.get("specific", [])]:
        if record is None:
            continue
        what = [label("threat_sector", record.get("sector"), lang), record.get("target") or ""]
        lines.append(
            {
                "what": " · ".join(w for w in what if w) or WORDS["threat_general"][lang],
                "level": str(record["level"]),
                "name": label("threat_level", str(record["level"]), lang),
                "reference": record.get("source_reference") or "",
                "set_at": when(record.get("set_at")),
            }
        )
    return lines


def context(view: View, lang: Language, with_map: bool = True) -> dict[str, Any]:
    """What the printed SITREP shows, in `lang`: every word from WORDS or the vocabulary."""
    code = lang.value
    props = view.feature["properties"]
    content = view.content
    figures = view.figures
    activation = content["activation"]
    overdue = set(figures["overdue"])
    tasks = _rows(content["tasks"], code)
    for t in tasks:
        t["is_overdue"] = t["id"] in overdue
        t["status_label"] = label("task_status", t.get("status"), code)
    incidents = _rows(content["incidents"], code)
    for i in incidents:
        i["status_label"] = label("incident_status", i.get("status"), code)
    changes = [
        {
            **c,
            "when": when(c["at"]),
            "entity_label": label("entity", c["entity"], code),
            "op_label": label("op", c["op"], code),
            "status_label": _status(c["entity"], c.get("status"), code),
        }
        for c in content["changes"]
    ]
    municipalities = [
        {**m, "name": m["name_nl"] if code == "nl" else m["name_fr"] or m["code"]}
        for m in figures["by_municipality"]
    ]
    more = 0
    if "changes_total" in content:
        more = max(0, content["changes_total"] - len(content["changes"]))
    return {
        "lang": code,
        "w": {k: v[code] for k, v in WORDS.items()},
        "ref": props["ref"],
        "title": props["title"],
        "number": props["number"],
        "version": props["version"],
        "status": label("sitrep_status", props["status"], code),
        "approved": props["status"] == "approved",
        "approved_by": props.get("approved_by") or "",
        "approved_at": when(props.get("approved_at")),
        "exercise": bool(props.get("exercise")),
        "daily": props.get("activation_id") is None,
        "activation": (
            f"{activation['ref']} — {activation['title']}"
            if activation
            else ("" if props.get("activation_id") is None else WORDS["hidden"][code])
        ),
        "activation_level": label("activation_level", activation.get("level"), code)
        if activation
        else "",
        "picture_at": when(props["picture_at"]),
        "since": when(props["since_at"]),
        "threat": _threat(content.get("threat_level"), code),
        "summary": props.get("summary") or "",
        "next_steps": props.get("next_steps") or "",
        "text_language": WORDS["language"][props["language"]] if props.get("language") else "",
        "figures": figures,
        # A kind past MAX_ITEMS keeps its newest objects: its figures are then "at least".
        "cut": {k: WORDS["cut"][code].format(n=MAX_ITEMS) for k in content.get("truncated", [])},
        "severities": [(s.value, label("severity", s.value, code)) for s in SEVERITY_ORDER],
        "severity_colour": SEVERITY_COLOUR,
        "municipalities": municipalities,
        "incidents": incidents,
        "zones": _rows(content["zones"], code),
        "events": _rows(content["events"], code),
        "demonstrations": _rows(content["demonstrations"], code),
        "decisions": _rows(content["decisions"], code),
        "tasks": tasks,
        "changes": changes,
        "more_changes": more,
        "partner": view.partner,
        "with_map": with_map,
        "printed_at": datetime.now(BRUSSELS).strftime("%d/%m/%Y %H:%M"),
        "legend": [
            *((label("severity", s, code), c) for s, c in SEVERITY_COLOUR.items()),
            (WORDS["events"][code], EVENT_COLOUR),
            (WORDS["demonstrations"][code], DEMONSTRATION_COLOUR),
            *((label("zone_kind", k, code), c) for k, c in ZONE_COLOUR.items()),
        ],
    }


def _html(
    view: View,
    lang: Language,
    ref_layers: dict[str, list[dict[str, Any]]] | None,
    for_print: bool = False,
) -> str:
    ctx = context(view, lang, with_map=ref_layers is not None)
    # The one piece of markup: the SVG this module wrote, every text in it escaped.
    drawn = draw_map(view, ref_layers, lang.value, for_print) if ref_layers is not None else ""
    ctx["map_svg"] = Markup(drawn)
    return printing.templates(TEMPLATES).get_template("sitrep.html").render(**ctx)


def html_document(
    view: View, lang: Language, ref_layers: dict[str, list[dict[str, Any]]] | None
) -> str:
    """The SITREP as HTML (`ref_layers` None: without its map). CPU work: see render_html."""
    return _html(view, lang, ref_layers)


def pdf_document(
    view: View, lang: Language, ref_layers: dict[str, list[dict[str, Any]]] | None
) -> bytes:
    return printing.pdf(_html(view, lang, ref_layers, for_print=True))


async def render_html(
    view: View, lang: Language, ref_layers: dict[str, list[dict[str, Any]]] | None
) -> str:
    return await cpu.run(html_document, view, lang, ref_layers)


async def render_pdf(
    view: View, lang: Language, ref_layers: dict[str, list[dict[str, Any]]] | None
) -> bytes:
    return await cpu.run(pdf_document, view, lang, ref_layers)


async def render_map(
    view: View, lang: Language, ref_layers: dict[str, list[dict[str, Any]]]
) -> str:
    return await cpu.run(draw_map, view, ref_layers, lang.value)
