"""The demo's crisis cells (issue 16): the papal visit's GCC as the crisis centre ran it in
September 2024 (its seats, operational fiche, tasks, a standard procedure ticked, decisions,
one of them corrected, a document), and a night-time fire whose activation escalates from a
pre-alert to coordination.

Written through the one write path like the rest of the demo (app.demo): every object has
`source="demo"` and a stable `external_id`, so a second load creates nothing. The people are
the demo accounts (app.demo.DEMO_ACCOUNTS); the organisations are the standing partners.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.cell import procedures
from app.documents import service as documents
from app.documents.settings import get_document_settings
from app.documents.store import make_store
from app.domain import activation, decision, fiche, objects, position, task, users
from app.domain.activation import PhaseChange
from app.domain.actor import Actor
from app.domain.document import Document
from app.domain.enums import ItemState
from app.domain.schema import Props

# put(spec, key, props, **links): the demo loader's write (app.demo.Loader.put_as).
Put = Callable[..., Awaitable[objects.Written]]

PAPAL = "2024-papal-visit-gcc"
HIGH_OFFICIAL = "Haut fonctionnaire de garde / Hoge ambtenaar van wacht"
NIGHT = "2024-02-17-fire-cureghem-gcc"

# key, role, title, holder (user or organisation), presence, arrived
PAPAL_SEATS: tuple[tuple[str, str, str, dict[str, str], str, str | None], ...] = (
    (
        "ho",
        "high_official",
        "Haut fonctionnaire / Hoge ambtenaar",
        {"holder_user": "official"},
        "present",
        "2024-09-26T17:00:00+02:00",
    ),
    (
        "duty",
        "duty_officer",
        "Officier de permanence SITCEN",
        {"holder_user": "operator"},
        "present",
        "2024-09-26T16:45:00+02:00",
    ),
    (
        "d1",
        "d1",
        "D1 — SIAMU / DBDMH",
        {"holder_organisation": "siamu-dbdmh"},
        "present",
        "2024-09-26T17:20:00+02:00",
    ),
    (
        "d2",
        "d2",
        "D2 — Inspecteur d'hygiène fédéral / Federale gezondheidsinspecteur",
        {},
        "remote",
        "2024-09-26T17:30:00+02:00",
    ),
    (
        "d3",
        "d3",
        "D3 — PZ Bruxelles-Capitale/Ixelles",
        {"holder_organisation": "pz-5339"},
        "present",
        "2024-09-26T17:05:00+02:00",
    ),
    (
        "d3-west",
        "partner_liaison",
        "Liaison PZ Bruxelles-Ouest (Koekelberg)",
        {"holder_organisation": "pz-5340"},
        "remote",
        "2024-09-26T18:00:00+02:00",
    ),
    ("d4", "d4", "D4 — Protection civile / Civiele bescherming", {}, "expected", None),
    ("d5", "d5", "D5 — Cellule information / Infocel", {}, "present", "2024-09-26T17:40:00+02:00"),
    (
        "stib",
        "partner_liaison",
        "Liaison STIB / MIVB",
        {"holder_organisation": "stib-mivb"},
        "present",
        "2024-09-26T17:35:00+02:00",
    ),
    (
        "log",
        "log_keeper",
        "Tenue du journal / Logboek",
        {"holder_user": "operator"},
        "present",
        "2024-09-26T16:45:00+02:00",
    ),
)

FICHE_ENTRIES: list[dict[str, Any]] = [
    {
        "organisation": "pz-5339",
        "discipline": "d3",
        "role": "Sécurisation du Palais royal et du parcours / Beveiliging Koninklijk Paleis",
        "responsibilities": "Zone rouge, filtrage, escortes du cortège / Rode zone, filtering",
        "phone": "+32 2 279 79 79",
        "radio_talkgroup": "ASTRID PZ5339-OPS",
        "from": "2024-09-26T06:00:00+02:00",
        "to": "2024-09-27T23:00:00+02:00",
    },
    {
        "organisation": "pz-5340",
        "discipline": "d3",
        "role": "Basilique de Koekelberg: accès et stationnement / Toegang en parkeren",
        "responsibilities": "Périmètre de la basilique, circulation / Perimeter basiliek",
        "radio_talkgroup": "ASTRID PZ5340-OPS",
        "from": "2024-09-28T06:00:00+02:00",
        "to": "2024-09-28T22:00:00+02:00",
    },
    {
        "organisation": "siamu-dbdmh",
        "discipline": "d1",
        "role": "Secours et aide médicale urgente, postes médicaux / Medische posten",
        "responsibilities": "PMA Heysel parking C, ambulances en réserve / Ambulances stand-by",
        "phone": "+32 2 208 81 11",
        "radio_talkgroup": "ASTRID SIAMU-EVT",
        "from": "2024-09-29T05:00:00+02:00",
        "to": "2024-09-29T16:00:00+02:00",
    },
    {
        "organisation": "stib-mivb",
        "role": "Transport public, navettes Heysel / Openbaar vervoer, pendels",
        "responsibilities": "Déviations trams 7 et 51, navettes renforcées / Omleidingen",
        "phone": "+32 70 23 2000",
        "from": "2024-09-29T05:00:00+02:00",
        "to": "2024-09-29T18:00:00+02:00",
    },
]

# key, title, owner organisation, due, priority, statuses it goes through
PAPAL_TASKS: tuple[tuple[str, str, str, str, str, tuple[str, ...]], ...] = (
    (
        "drone-ban",
        "Diffuser l'interdiction de drones aux communes / Droneverbod verspreiden",
        "pz-5339",
        "2024-09-26T20:00:00+02:00",
        "high",
        ("in_progress", "done"),
    ),
    (
        "shuttles",
        "Renforcer les navettes Heysel / Extra pendels Heizel",
        "stib-mivb",
        "2024-09-28T18:00:00+02:00",
        "normal",
        ("in_progress", "done"),
    ),
    (
        "first-aid",
        "Monter le poste médical avancé du parking C / Medische post parking C",
        "siamu-dbdmh",
        "2024-09-29T05:00:00+02:00",
        "urgent",
        ("done",),
    ),
    (
        "koekelberg-parking",
        "Fermer le parking de la basilique / Parking basiliek sluiten",
        "pz-5340",
        "2024-09-28T07:00:00+02:00",
        "high",
        ("done",),
    ),
)

# key, decided at, seat (key), title, basis, corrects (key)
PAPAL_DECISIONS: tuple[tuple[str, str, str, str, str, str | None], ...] = (
    (
        "opening",
        "2024-09-26T17:00:00+02:00",
        "ho",
        "Ouverture du GCC en phase de coordination / Opening CCC in coördinatiefase",
        "Risque OCAM niveau 3, 3 sites, 4 jours / OCAD-niveau 3, 3 sites",
        None,
    ),
    (
        "drone-ban",
        "2024-09-26T18:00:00+02:00",
        "ho",
        "Interdiction de drones sur le territoire régional / Droneverbod in het Gewest",
        "Avis D3 et police fédérale / Advies D3 en federale politie",
        None,
    ),
    (
        "heysel-access",
        "2024-09-28T15:00:00+02:00",
        "ho",
        "Ouverture des accès du stade à 06h00 / Toegang stadion om 6 uur",
        "Avis D1 et STIB: flux des navettes / Advies D1 en MIVB",
        None,
    ),
    (
        "heysel-access-fix",
        "2024-09-28T21:00:00+02:00",
        "ho",
        "Correction: ouverture des accès à 05h00 / Correctie: toegang om 5 uur",
        "Affluence attendue plus tôt (billets) / Vroegere toestroom verwacht",
        "heysel-access",
    ),
)

DOCUMENT_KEY = f"{PAPAL}:document:mobility"
DOCUMENT = (
    "Plan de mobilité — messe au stade Roi Baudouin, 29 septembre 2024\n"
    "Mobiliteitsplan — mis in het Koning Boudewijnstadion, 29 september 2024\n\n"
    "Trams 7 et 51 limités à Heysel; navettes depuis Roi Baudouin toutes les 3 minutes.\n"
    "Trams 7 en 51 ingekort tot Heizel; pendels vanaf Koning Boudewijn om de 3 minuten.\n"
)


def _patch(values: dict[str, Any]) -> Props:
    patch = activation.SPEC.update_schema.model_validate(values)
    assert isinstance(patch, Props)
    return patch


async def _seats(
    session: AsyncSession, put: Put, activation_id: uuid.UUID, seats: Any, key: str
) -> dict[str, Any]:
    """The cell's seats; a seat the demo gives to a demo account stays unfilled where that
    account does not exist (the scenario loaded beside real users)."""
    out = {}
    for seat_key, role, title, holder, presence, arrived in seats:
        props = {"title": title, "role": role, "presence": presence, "arrived_at": arrived}
        user = holder.get("holder_user")
        if user is not None and not await users.is_known(session, user):
            holder = {}
        out[seat_key] = await put(
            position.SPEC, f"{key}:seat:{seat_key}", props, activation_id=activation_id, **holder
        )
    return out


async def _once(text: str) -> AsyncIterator[bytes]:
    yield text.encode()


async def load_papal_cell(
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    put: Put,
    actor: Actor,
    gcc: objects.Written,
    visit_id: uuid.UUID,
) -> None:
    """The papal visit's cell, written before the activation is closed."""
    seats = await _seats(session, put, gcc.id, PAPAL_SEATS, PAPAL)
    sheet = await put(
        fiche.SPEC,
        f"{PAPAL}:fiche",
        {
            "title": "Fiche opérationnelle — visite papale / Operationele fiche — pausbezoek",
            "entries": FICHE_ENTRIES,
            "subject_entity": "planned_event",
            "subject_id": visit_id,
            "shared_with": ["pz-5339", "pz-5340", "siamu-dbdmh", "stib-mivb"],
        },
        activation_id=gcc.id,
    )
    if sheet.created:
        from app.cell import fiches  # the approval's own rules (who, when)

        await fiches.approve(session, actor, sheet.id, sheet.version, None)
    for key, title, owner, due, priority, steps in PAPAL_TASKS:
        props = {
            "title": title,
            "owner_organisation": owner,
            "due_at": due,
            "priority": priority,
            "subject_entity": "planned_event",
            "subject_id": visit_id,
        }
        written = await put(task.SPEC, f"{PAPAL}:task:{key}", props, activation_id=gcc.id)
        if written.created:
            for status in steps:
                patch = task.TaskPatch.model_validate({"status": status})
                written = await objects.update(
                    session, task.SPEC, written.id, patch, None, written.version, actor
                )
    checklist = await procedures.start_checklist(
        session, actor, "official_visit", activation_id=gcc.id
    )
    if checklist.created:
        for item in checklist.feature["properties"]["items"][:-1]:
            await procedures.tick(
                session, actor, checklist.id, item["key"], ItemState.done, None, None
            )
    decided: dict[str, uuid.UUID] = {}
    for key, at, seat, title, basis, corrects in PAPAL_DECISIONS:
        props = {
            "title": title,
            "decided_at": at,
            "decided_by_position_id": seats[seat].id,
            "decided_by_name": HIGH_OFFICIAL,
            "basis": basis,
            "corrects_id": decided[corrects] if corrects else None,
        }
        made = await put(decision.SPEC, f"{PAPAL}:decision:{key}", props, activation_id=gcc.id)
        decided[key] = made.id
    found = await session.scalar(
        select(Document.id).where(Document.source == "demo", Document.external_id == DOCUMENT_KEY)
    )
    if found is None:
        settings = get_document_settings()
        meta = documents.Upload(
            subject_entity="activation",
            subject_id=gcc.id,
            filename="plan-mobilite-mobiliteitsplan.txt",
            title="Plan de mobilité STIB / Mobiliteitsplan MIVB",
            shareable=True,
            source="demo",
            external_id=DOCUMENT_KEY,
        )
        await documents.upload(
            session, make_store(settings, sessions), settings, meta, _once(DOCUMENT), actor
        )


NIGHT_SEATS = (
    (
        "duty",
        "duty_officer",
        "Officier de permanence SITCEN (nuit)",
        {"holder_user": "operator"},
        "present",
        "2024-02-17T04:05:00+01:00",
    ),
    (
        "d1",
        "d1",
        "D1 — SIAMU / DBDMH",
        {"holder_organisation": "siamu-dbdmh"},
        "acknowledged",
        None,
    ),
    (
        "d3",
        "d3",
        "D3 — PZ Midi / Zuid",
        {"holder_organisation": "pz-5341"},
        "remote",
        "2024-02-17T04:30:00+01:00",
    ),
    (
        "ho",
        "high_official",
        "Haut fonctionnaire de garde / Hoge ambtenaar van wacht",
        {"holder_user": "official"},
        "remote",
        "2024-02-17T05:10:00+01:00",
    ),
)


async def load_night_cell(
    session: AsyncSession, put: Put, actor: Actor, fire_id: uuid.UUID
) -> None:
    """A fire at night in Cureghem: the watch opens a pre-alert at 04:05, the High Official
    takes the coordination at 05:00 as the fire spreads to the next building; closed once the
    residents are rehoused."""
    props = {
        "title": "GCC — Incendie chaussée de Mons / CCC — Brand Bergensesteenweg",
        "description": "Ouvert de nuit par la permanence / 's Nachts geopend door de permanentie",
        "level": "pre_alert",
        "coordinator": "sitcen",
        "phase": "pre_alert",
        "opened_at": "2024-02-17T04:05:00+01:00",
        "shared_with": ["siamu-dbdmh", "pz-5341"],
    }
    gcc = await put(activation.SPEC, NIGHT, props, subject_entity="incident", subject_id=fire_id)
    if not gcc.created:
        return
    seats = await _seats(session, put, gcc.id, NIGHT_SEATS, NIGHT)
    escalate = PhaseChange(
        phase="coordination",
        phase_reason="Extension au bâtiment voisin, 12 personnes à reloger / Uitbreiding naar "
        "het buurgebouw, 12 mensen te herhuisvesten",
    )
    gcc = await objects.update(session, activation.SPEC, gcc.id, escalate, None, gcc.version, actor)
    level = _patch({"level": "coordination", "coordinator": "high_official"})
    gcc = await objects.update(session, activation.SPEC, gcc.id, level, None, gcc.version, actor)
    await put(
        decision.SPEC,
        f"{NIGHT}:decision:coordination",
        {
            "title": "Passage en coordination, le HF coordonne / Overgang naar coördinatie",
            "decided_at": "2024-02-17T05:00:00+01:00",
            "decided_by_position_id": seats["ho"].id,
            "decided_by_name": HIGH_OFFICIAL,
            "basis": "Rapport D1: propagation au n° 92 / Verslag D1: uitbreiding naar nr. 92",
        },
        activation_id=gcc.id,
    )
    await put(
        task.SPEC,
        f"{NIGHT}:task:rehousing",
        {
            "title": "Reloger les 12 résidents évacués / 12 geëvacueerde bewoners herhuisvesten",
            "due_at": "2024-02-17T08:00:00+01:00",
            "priority": "urgent",
            "subject_entity": "incident",
            "subject_id": fire_id,
        },
        activation_id=gcc.id,
    )
    closing = _patch({"status": "closed", "closed_at": "2024-02-17T09:30:00+01:00"})
    await objects.update(session, activation.SPEC, gcc.id, closing, None, gcc.version, actor)
