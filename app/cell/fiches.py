"""The operational fiche's life beyond its object: drafting it from an activation template,
approving it, and printing it (HTML with a print stylesheet, and PDF) in the reader's language.

Printing resolves what the fiche names (organisations, positions, zones, its event or
activation) for the reader: what the reader may not see is printed as "not shared with you",
never by its title. The PDF is rendered by WeasyPrint in the bounded CPU pool (app.cpu): a long
fiche never holds the event loop, and a burst of prints queues for a thread.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import cpu, printing
from app.domain import objects
from app.domain.actor import Actor
from app.domain.enums import Entity, FicheStatus, Language
from app.domain.fiche import SPEC, Approval, Fiche, FicheCreate
from app.domain.registry import BY_ENTITY
from app.domain.visibility import Scope
from app.errors import conflict, pydantic_errors, validation_problem
from app.partners.models import Organisation
from app.vocabulary import label

BRUSSELS = ZoneInfo("Europe/Brussels")
TEMPLATES = Path(__file__).with_name("templates")


async def draft_fiche(
    session: AsyncSession,
    actor: Actor,
    entries: list[dict[str, Any]],
    *,
    activation_id: uuid.UUID | None = None,
    subject_entity: str | None = None,
    subject_id: uuid.UUID | None = None,
    title: str | None = None,
    language: Language = Language.fr,
) -> objects.Written:
    """A draft fiche for an activation or a planned event, with its entries (as the API takes
    them: organisation, discipline, role, responsibilities, phone, radio_talkgroup,
    position_id, zone_ids, from, to). In the caller's transaction; the caller commits."""
    try:
        props = FicheCreate.model_validate(
            {
                "title": title or "Fiche opérationnelle / Operationele fiche",
                "activation_id": activation_id,
                "subject_entity": subject_entity,
                "subject_id": subject_id,
                "entries": entries,
                "language": language,
            }
        )
    except ValidationError as error:
        raise validation_problem(pydantic_errors(error.errors())) from error
    return await objects.create(session, SPEC, props, None, actor)


async def approve(
    session: AsyncSession,
    actor: Actor,
    fiche_id: uuid.UUID,
    expected: int | None,
    scope: ColumnElement[bool] | None,
) -> objects.Written:
    """Approve the fiche as it stands (`expected`: the version the approver read, if given)."""
    row = await objects.get(session, SPEC, fiche_id, scope, for_update=True)
    assert isinstance(row, Fiche)
    if expected is not None and row.version != expected:
        raise objects.stale(SPEC, row, expected)
    if row.status == FicheStatus.approved:
        raise conflict(
            f"fiche {row.ref} was already approved by {row.approved_by} at "
            f"{row.approved_at.isoformat() if row.approved_at else '?'}",
            approved_by=row.approved_by,
        )
    approval = Approval(
        status=FicheStatus.approved, approved_by=actor.name, approved_at=datetime.now(UTC)
    )
    return await objects.update(session, SPEC, fiche_id, approval, None, row.version, actor, scope)


# ---- printing ---------------------------------------------------------------------------------

WORDS: dict[str, dict[str, str]] = {
    "fiche": {"fr": "Fiche opérationnelle", "nl": "Operationele fiche", "en": "Operational fiche"},
    "organisation": {"fr": "Organisation", "nl": "Organisatie", "en": "Organisation"},
    "discipline": {"fr": "Discipline", "nl": "Discipline", "en": "Discipline"},
    "role": {"fr": "Rôle", "nl": "Rol", "en": "Role"},
    "responsibilities": {
        "fr": "Responsabilités",
        "nl": "Verantwoordelijkheden",
        "en": "Responsibilities",
    },
    "contact": {"fr": "Contact", "nl": "Contact", "en": "Contact"},
    "phone": {"fr": "Tél.", "nl": "Tel.", "en": "Phone"},
    "radio": {"fr": "Groupe radio", "nl": "Radiogespreksgroep", "en": "Radio talk-group"},
    "position": {
        "fr": "Position dans la cellule",
        "nl": "Positie in de cel",
        "en": "Cell position",
    },
    "zones": {"fr": "Zones", "nl": "Zones", "en": "Zones"},
    "window": {"fr": "Période", "nl": "Periode", "en": "Time window"},
    "status": {"fr": "Statut", "nl": "Status", "en": "Status"},
    "approved": {"fr": "Approuvée par", "nl": "Goedgekeurd door", "en": "Approved by"},
    "not_approved": {
        "fr": "Projet : pas encore approuvée",
        "nl": "Ontwerp: nog niet goedgekeurd",
        "en": "Draft: not approved yet",
    },
    "version": {"fr": "Version", "nl": "Versie", "en": "Version"},
    "printed": {"fr": "Imprimée le", "nl": "Afgedrukt op", "en": "Printed on"},
    "for": {"fr": "Pour", "nl": "Voor", "en": "For"},
    "hidden": {
        "fr": "non partagé avec vous",
        "nl": "niet met u gedeeld",
        "en": "not shared with you",
    },
    "none": {"fr": "Aucune entrée", "nl": "Geen vermeldingen", "en": "No entries"},
    "times": {
        "fr": "Heures de Bruxelles",
        "nl": "Brusselse tijd",
        "en": "Brussels time",
    },
    "text_language": {
        "fr": "Texte rédigé en",
        "nl": "Tekst opgesteld in het",
        "en": "Text written in",
    },
    "language": {"fr": "français", "nl": "Nederlands", "en": "English"},
}


def _when(value: str | None) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(BRUSSELS).strftime("%d/%m/%Y %H:%M")


def _name(org: Organisation | None, code: str, lang: str) -> str:
    if org is None:
        return code
    return org.name_nl if lang == Language.nl else org.name_fr


async def _visible(
    session: AsyncSession, entity: Entity, ids: set[uuid.UUID], scope: Scope
) -> dict[uuid.UUID, Any]:
    """Of these objects of one kind, those the reader sees, by id."""
    if not ids or (scope.entities is not None and entity.value not in scope.entities):
        return {}
    model = BY_ENTITY[entity].model
    query = select(model).where(model.id.in_(ids))
    clause = scope.clause(model)
    if clause is not None:
        query = query.where(clause)
    return {row.id: row for row in (await session.scalars(query)).all()}


async def print_context(
    session: AsyncSession, fiche: dict[str, Any], lang: Language, scope: Scope
) -> dict[str, Any]:
    """What the printed fiche shows, resolved for a reader of `scope`, in `lang`."""
    props = fiche["properties"]
    entries = props["entries"]
    codes = {e["organisation"] for e in entries}
    orgs = {
        o.code: o
        for o in (
            await session.scalars(select(Organisation).where(Organisation.code.in_(codes)))
        ).all()
    }
    zone_ids = {uuid.UUID(z) for e in entries for z in e["zone_ids"]}
    position_ids = {uuid.UUID(e["position_id"]) for e in entries if e.get("position_id")}
    zones = await _visible(session, Entity.zone, zone_ids, scope)
    positions = await _visible(session, Entity.position, position_ids, scope)
    hidden = WORDS["hidden"][lang]
    rows = []
    for e in entries:
        zone_names = [
            f"{zones[z].ref} {zones[z].title}" if z in zones else hidden
            for z in (uuid.UUID(i) for i in e["zone_ids"])
        ]
        position = ""
        if e.get("position_id"):
            p = positions.get(uuid.UUID(e["position_id"]))
            position = label("position_role", p.role, lang) if p else hidden
            if p and p.holder_user:
                position += f" ({p.holder_user})"
        rows.append(
            {
                "organisation": _name(orgs.get(e["organisation"]), e["organisation"], lang),
                "code": e["organisation"],
                "discipline": label("discipline", e.get("discipline"), lang),
                "role": e["role"],
                "responsibilities": e["responsibilities"],
                "phone": e.get("phone") or "",
                "radio": e.get("radio_talkgroup") or "",
                "position": position,
                "zones": zone_names,
                "from": _when(e.get("from")),
                "to": _when(e.get("to")),
            }
        )
    subject = ""
    about = [(Entity.activation, props.get("activation_id"))]
    if props.get("subject_entity"):
        about.insert(0, (Entity(props["subject_entity"]), props.get("subject_id")))
    for entity, ident in about:
        if ident is None:
            continue
        found = (await _visible(session, entity, {uuid.UUID(ident)}, scope)).get(uuid.UUID(ident))
        subject = f"{found.ref} — {found.title}" if found else hidden
        break
    return {
        "lang": lang.value,
        "w": {k: v[lang] for k, v in WORDS.items()},
        "ref": props["ref"],
        "title": props["title"],
        "version": props["version"],
        "status": label("fiche_status", props["status"], lang),
        "approved": props["status"] == FicheStatus.approved,
        "approved_by": props.get("approved_by") or "",
        "approved_at": _when(props.get("approved_at")),
        "subject": subject,
        "text_language": WORDS["language"][props["language"]] if props.get("language") else "",
        "entries": rows,
        "printed_at": datetime.now(BRUSSELS).strftime("%d/%m/%Y %H:%M"),
    }


def render_html(context: dict[str, Any]) -> str:
    return printing.templates(TEMPLATES).get_template("fiche.html").render(**context)


async def render_pdf(context: dict[str, Any]) -> bytes:
    """The fiche as PDF, rendered in the CPU pool (a hundred entries take about a second)."""
    return await cpu.run(printing.pdf, render_html(context))
