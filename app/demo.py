"""The local demo: accounts the README names, and a repeatable scenario of 2024 activity.

Every object is written through `objects.create` with `source="demo"` and a stable
`external_id`, so a second load finds the first objects and creates nothing. Places are
real; the drug hotspots are sample data, not an official list.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import demo_cell
from app.auth.models import User
from app.auth.principal import Principal
from app.auth.roles import Role
from app.auth.service import create_api_key, create_user
from app.db import transaction
from app.domain import (
    activation,
    demonstration,
    hotspot_note,
    incident,
    logbook_entry,
    objects,
    planned_event,
    police_measure,
    zone,
)
from app.domain.registry import SPECS
from app.domain.schema import Props
from app.domain.spec import EntitySpec
from app.geo.validation import parse_geometry

Geometry = dict[str, Any]
LonLat = tuple[float, float]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: Role
    full_name: str
    organisation: str | None = None
    language: str = "fr"


@dataclass(frozen=True)
class DemoApiKey:
    name: str
    key: str
    role: Role


# Local use only: `ensure_demo_accounts` runs solely in the self-started local mode.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("operator", "sitcen-operator-demo", Role.operator, "Agent SITCEN (démo)"),
    DemoAccount("official", "sitcen-official-demo", Role.official, "Haut Fonctionnaire (démo)"),
    DemoAccount(
        "partner",
        "sitcen-partner-demo",
        Role.partner,
        "SPOC PZ Brussel-Hoofdstad/Elsene (demo)",
        organisation="pz-5339",
        language="nl",
    ),
    DemoAccount("admin", "sitcen-admin-demo", Role.admin, "Administrator (demo)", language="en"),
)
DEMO_API_KEY = DemoApiKey(
    "dispatch-demo", "sitcen_demo-dispatch-key-for-local-use-only", Role.dispatch
)

DEMO_ACTOR = Principal(kind="system", id=None, name="demo", role=Role.admin)
SOURCE = "demo"
SAMPLE_NOTE = (
    "Données d'exemple — emplacement plausible, pas une liste officielle. / "
    "Voorbeeldgegevens — plausibele locatie, geen officiële lijst."
)


async def ensure_demo_accounts(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Create the demo users and API key if there is no user yet; True if it did."""
    async with transaction(sessions) as session:
        if await session.scalar(select(User.id).limit(1)) is not None:
            return False
        for a in DEMO_ACCOUNTS:
            await create_user(
                session,
                a.username,
                a.password,
                a.role,
                actor=DEMO_ACTOR.actor,
                full_name=a.full_name,
                organisation=a.organisation,
                language=a.language,
            )
        await create_api_key(
            session,
            DEMO_API_KEY.name,
            DEMO_API_KEY.role,
            actor=DEMO_ACTOR.actor,
            key=DEMO_API_KEY.key,
        )
    return True


# Geometry: GeoJSON in WGS 84 lon/lat (RFC 7946), polygons closed with a CCW exterior ring.

METRES_PER_DEGREE_LAT = 111_320.0


def point(lon: float, lat: float) -> Geometry:
    return {"type": "Point", "coordinates": [lon, lat]}


def line(*positions: LonLat) -> Geometry:
    return {"type": "LineString", "coordinates": [[lon, lat] for lon, lat in positions]}


def polygon(*corners: LonLat) -> Geometry:
    """A polygon from its corners, closed and turned counter-clockwise (RFC 7946 §3.1.6)."""
    ring = list(corners)
    edges = zip(ring, ring[1:] + ring[:1], strict=True)
    twice_area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in edges)
    if twice_area < 0:
        ring.reverse()
    return {"type": "Polygon", "coordinates": [[[lon, lat] for lon, lat in [*ring, ring[0]]]]}


def square(lon: float, lat: float, metres: float) -> Geometry:
    """A square of `metres` a side centred on a place: the demo's small standing areas."""
    dlat = metres / 2 / METRES_PER_DEGREE_LAT
    dlon = dlat / math.cos(math.radians(lat))
    w, e, s, n = (round(v, 6) for v in (lon - dlon, lon + dlon, lat - dlat, lat + dlat))
    return polygon((w, s), (e, s), (e, n), (w, n))


# Places (lon, lat) used more than once.
PALAIS_ROYAL = (4.3622, 50.8417)
BASILIQUE_KOEKELBERG = (4.3172, 50.8667)
STADE_ROI_BAUDOUIN = (4.3340, 50.8957)
NONCIATURE = (4.4190, 50.8322)  # Avenue des Franciscains, Woluwe-Saint-Pierre
ARTS_LOI = (4.3700, 50.8456)
MAELBEEK = (4.3775, 50.8440)
SCHUMAN = (4.3810, 50.8430)
MERODE = (4.3985, 50.8392)


# One object of the scenario: stable key, properties, geometry, and the changes that follow its
# first creation (e.g. an incident that was later resolved), applied only when it is created.
class Item(NamedTuple):
    key: str
    props: dict[str, Any]
    geometry: Geometry | None = None
    then: tuple[dict[str, Any], ...] = ()


PAPAL_VISIT = Item(
    "2024-papal-visit",
    {
        "title": "Visite papale — Pape François / Pausbezoek — Paus Franciscus",
        "description": (
            "Visite du pape François en Belgique du 26 au 29/09/2024: Palais royal, Basilique "
            "de Koekelberg, messe au Stade Roi Baudouin le dimanche 29/09 à 10h00. / Bezoek van "
            "paus Franciscus aan België van 26 tot 29/09/2024: Koninklijk Paleis, Basiliek van "
            "Koekelberg, mis in het Koning Boudewijnstadion op zondag 29/09 om 10 uur."
        ),
        "kind": "papal_visit",
        "status": "confirmed",
        "starts_at": "2024-09-26T18:00:00+02:00",
        "ends_at": "2024-09-29T13:30:00+02:00",
        "venue": "Stade Roi Baudouin / Koning Boudewijnstadion (messe / mis 29/09)",
        "expected_attendance": 35_000,
        "risk_level": "very_high",
        "organiser": "Conférence épiscopale de Belgique / Bisschoppenconferentie van België",
        "visibility": "shared",
    },
    point(*STADE_ROI_BAUDOUIN),
    ({"status": "ongoing"}, {"status": "ended"}),
)


class ZoneRow(NamedTuple):
    key: str
    kind: str
    title: str
    valid_from: str
    valid_to: str
    geometry: Geometry
    description: str | None = None
    shared: bool = True


PAPAL_ZONES: tuple[ZoneRow, ...] = (
    ZoneRow(
        "perimeter-palais-royal",
        "security_perimeter",
        "Visite papale — périmètre de sécurité Palais royal / Pausbezoek — "
        "veiligheidsperimeter Koninklijk Paleis",
        "2024-09-27T06:00:00+02:00",
        "2024-09-27T14:00:00+02:00",
        polygon((4.3585, 50.8398), (4.3680, 50.8398), (4.3685, 50.8472), (4.3598, 50.8472)),
        "Place des Palais, Parc de Bruxelles, Place Royale / Paleizenplein, Warandepark, "
        "Koningsplein",
    ),
    ZoneRow(
        "perimeter-koekelberg",
        "security_perimeter",
        "Visite papale — périmètre de sécurité Basilique de Koekelberg / Pausbezoek — "
        "veiligheidsperimeter Basiliek van Koekelberg",
        "2024-09-28T06:00:00+02:00",
        "2024-09-28T14:00:00+02:00",
        polygon((4.3120, 50.8640), (4.3240, 50.8640), (4.3240, 50.8695), (4.3120, 50.8695)),
        "Basilique et parc Elisabeth / Basiliek en Elisabethpark",
    ),
    ZoneRow(
        "perimeter-stade",
        "security_perimeter",
        "Visite papale — périmètre de sécurité Stade Roi Baudouin / Pausbezoek — "
        "veiligheidsperimeter Koning Boudewijnstadion",
        "2024-09-28T18:00:00+02:00",
        "2024-09-29T15:00:00+02:00",
        polygon((4.3290, 50.8925), (4.3395, 50.8925), (4.3400, 50.8980), (4.3290, 50.8980)),
        "Messe du 29/09, accès par contrôle / Mis van 29/09, toegang na controle",
    ),
    ZoneRow(
        "red-zone-palais",
        "red_zone",
        "Visite papale — zone rouge Place des Palais / Pausbezoek — rode zone Paleizenplein",
        "2024-09-27T07:00:00+02:00",
        "2024-09-27T13:00:00+02:00",
        polygon((4.3602, 50.8408), (4.3650, 50.8408), (4.3652, 50.8428), (4.3604, 50.8430)),
        "Accès réservé aux services accrédités / Enkel geaccrediteerde diensten",
        shared=False,
    ),
    ZoneRow(
        "drone-ban",
        "drone_ban",
        "Visite papale — interdiction de drones / Pausbezoek — droneverbod",
        "2024-09-26T18:00:00+02:00",
        "2024-09-29T18:00:00+02:00",
        polygon(
            (4.3050, 50.8330),
            (4.3950, 50.8330),
            (4.3950, 50.8620),
            (4.3500, 50.9000),
            (4.3300, 50.9000),
            (4.3050, 50.8720),
        ),
        "Interdiction de survol par drones décidée par arrêté du Ministre-Président de la "
        "Région de Bruxelles-Capitale. / Droneverbod bij besluit van de Minister-President "
        "van het Brussels Hoofdstedelijk Gewest.",
    ),
    ZoneRow(
        "route",
        "route",
        "Visite papale — itinéraire du cortège / Pausbezoek — route van het konvooi",
        "2024-09-27T06:00:00+02:00",
        "2024-09-29T13:30:00+02:00",
        line(
            NONCIATURE,
            (4.4140, 50.8352),
            (4.4085, 50.8380),
            (4.4030, 50.8388),
            MERODE,
            (4.3925, 50.8405),
            (4.3860, 50.8420),
            SCHUMAN,
            MAELBEEK,
            ARTS_LOI,
            (4.3670, 50.8443),
            (4.3666, 50.8425),
            (4.3630, 50.8418),
            PALAIS_ROYAL,
            (4.3612, 50.8432),
            (4.3635, 50.8480),
            (4.3660, 50.8540),
            (4.3585, 50.8548),
            (4.3495, 50.8560),
            (4.3440, 50.8585),
            (4.3380, 50.8600),
            (4.3290, 50.8630),
            (4.3220, 50.8655),
            BASILIQUE_KOEKELBERG,
            (4.3230, 50.8730),
            (4.3290, 50.8800),
            (4.3320, 50.8880),
            STADE_ROI_BAUDOUIN,
        ),
        "Nonciature → av. de Tervueren → rue de la Loi → Palais royal → petite ceinture → "
        "bd Léopold II → Basilique de Koekelberg → bd de Smet de Naeyer → Stade Roi "
        "Baudouin / Nuntiatuur → Tervurenlaan → Wetstraat → Koninklijk Paleis → kleine ring "
        "→ Leopold II-laan → Basiliek → De Smet de Naeyerlaan → Koning Boudewijnstadion",
        shared=False,
    ),
    ZoneRow(
        "assembly-roi-baudouin",
        "assembly_point",
        "Point de rassemblement — métro Roi Baudouin / Verzamelpunt — metro Koning Boudewijn",
        "2024-09-29T05:00:00+02:00",
        "2024-09-29T14:00:00+02:00",
        point(4.3270, 50.8955),
    ),
    ZoneRow(
        "assembly-place-de-belgique",
        "assembly_point",
        "Point de rassemblement — Place de Belgique / Verzamelpunt — Belgiëplein",
        "2024-09-29T05:00:00+02:00",
        "2024-09-29T14:00:00+02:00",
        point(4.3400, 50.8985),
    ),
    ZoneRow(
        "assembly-atomium",
        "assembly_point",
        "Point de rassemblement — Square de l'Atomium / Verzamelpunt — Atomiumsquare",
        "2024-09-29T05:00:00+02:00",
        "2024-09-29T14:00:00+02:00",
        point(4.3410, 50.8935),
    ),
    ZoneRow(
        "first-aid-post",
        "first_aid_post",
        "Poste médical avancé — avenue du Marathon / Vooruitgeschoven medische post — Marathonlaan",
        "2024-09-29T05:00:00+02:00",
        "2024-09-29T15:00:00+02:00",
        point(4.3372, 50.8938),
        "SIAMU/DBDMH, Croix-Rouge / Rode Kruis",
    ),
    ZoneRow(
        "staging-parking-c",
        "staging_area",
        "Zone de regroupement des moyens — Parking C / Verzamelzone middelen — Parking C",
        "2024-09-28T20:00:00+02:00",
        "2024-09-29T15:00:00+02:00",
        square(4.3300, 50.8980, 150),
        shared=False,
    ),
)

MATCH = Item(
    "2024-10-14-belgium-italy",
    {
        "title": "Belgique-Italie, Ligue des Nations / België-Italië, Nations League",
        "description": "Match UEFA Nations League, coup d'envoi 20h45 / aftrap 20.45 uur",
        "kind": "sports_match",
        "status": "confirmed",
        "starts_at": "2024-10-14T17:45:00+02:00",
        "ends_at": "2024-10-14T23:30:00+02:00",
        "venue": "Stade Roi Baudouin / Koning Boudewijnstadion",
        "expected_attendance": 40_000,
        "risk_level": "high",
        "organiser": "URBSFA / KBVB",
        "visibility": "shared",
    },
    polygon((4.3315, 50.8940), (4.3365, 50.8940), (4.3365, 50.8975), (4.3315, 50.8975)),
    ({"status": "ongoing"}, {"status": "ended"}),
)
MATCH_ZONE = ZoneRow(
    "traffic-heysel",
    "traffic_restriction",
    "Match Belgique-Italie — circulation restreinte Heysel / Beperkt verkeer Heizel",
    "2024-10-14T16:00:00+02:00",
    "2024-10-15T01:00:00+02:00",
    polygon((4.3260, 50.8900), (4.3440, 50.8900), (4.3440, 50.8975), (4.3260, 50.8975)),
    "Bd du Centenaire et av. Houba de Strooper fermés / Eeuwfeestlaan en Houba de Strooperlaan "
    "afgesloten",
)

DEMONSTRATIONS: tuple[Item, ...] = (
    Item(
        "2024-12-13-union-march",
        {
            "title": "Manifestation syndicale — Gare du Nord → Place du Luxembourg / "
            "Vakbondsbetoging — Noordstation → Luxemburgplein",
            "organiser": "Front commun syndical / Gemeenschappelijk vakbondsfront",
            "expected_participants": 5_000,
            "starts_at": "2024-12-13T10:30:00+01:00",
            "ends_at": "2024-12-13T14:30:00+01:00",
            "authorisation": "authorised",
            "visibility": "shared",
        },
        line(
            (4.3605, 50.8600),
            (4.3585, 50.8548),
            (4.3660, 50.8543),
            (4.3695, 50.8497),
            ARTS_LOI,
            (4.3765, 50.8441),
            (4.3755, 50.8410),
            (4.3733, 50.8387),
        ),
    ),
    Item(
        "2024-11-16-flagey-gathering",
        {
            "title": "Rassemblement statique — Place Flagey / Statische samenkomst — Flageyplein",
            "organiser": "Collectif citoyen / Burgercollectief",
            "expected_participants": 300,
            "starts_at": "2024-11-16T14:00:00+01:00",
            "ends_at": "2024-11-16T17:00:00+01:00",
            "authorisation": "requested",
        },
        point(4.3722, 50.8275),
    ),
)


class IncidentRow(NamedTuple):
    key: str
    category: str
    severity: str
    status: str  # where it stands now; the rows reach it through allowed transitions
    occurred: str
    closed: str | None
    title: str
    place: str
    geometry: Geometry
    description: str | None = None
    shared: bool = False
    exercise: bool = False


INCIDENTS: tuple[IncidentRow, ...] = (
    IncidentRow(
        "2024-02-17-fire-cureghem",
        "fire",
        "severe",
        "closed",
        "2024-02-17T03:40:00+01:00",
        "2024-02-17T09:15:00+01:00",
        "Incendie d'immeuble — chaussée de Mons / Brand in gebouw — Bergensesteenweg",
        "Chaussée de Mons, Cureghem, Anderlecht",
        point(4.3230, 50.8390),
        "12 personnes évacuées, 2 blessés légers / 12 geëvacueerden, 2 lichtgewonden",
    ),
    IncidentRow(
        "2024-05-14-package-midi",
        "suspicious_package",
        "moderate",
        "false_alarm",
        "2024-05-14T07:55:00+02:00",
        "2024-05-14T09:10:00+02:00",
        "Colis suspect — Gare du Midi / Verdacht pakket — Zuidstation",
        "Hall de la gare du Midi, Saint-Gilles",
        point(4.3365, 50.8357),
        "Périmètre 100 m, trafic interrompu 70 min; SEDEE: pas d'explosif / Perimeter "
        "100 m, verkeer 70 min onderbroken; DOVO: geen explosief",
        shared=True,
    ),
    IncidentRow(
        "2024-03-12-collision-leopold-iii",
        "traffic",
        "severe",
        "resolved",
        "2024-03-12T08:20:00+01:00",
        None,
        "Collision multiple — boulevard Léopold III / Kettingbotsing — Leopold III-laan",
        "Boulevard Léopold III, Evere",
        point(4.4120, 50.8690),
        "4 véhicules, 3 blessés; voies vers le Ring fermées / 4 voertuigen, 3 gewonden",
    ),
    IncidentRow(
        "2024-03-05-stabbing-clemenceau",
        "shooting_stabbing",
        "severe",
        "closed",
        "2024-03-05T21:10:00+01:00",
        "2024-03-06T02:00:00+01:00",
        "Agression au couteau — métro Clemenceau / Steekpartij — metro Clemenceau",
        "Station Clemenceau, Anderlecht",
        point(4.3295, 50.8413),
        "1 blessé grave, station fermée 2 h / 1 zwaargewonde, station 2 uur dicht",
    ),
    IncidentRow(
        "2024-06-29-flooding-saint-job",
        "flooding_storm",
        "moderate",
        "resolved",
        "2024-06-29T17:45:00+02:00",
        None,
        "Inondation de voiries et de caves — Saint-Job / Wateroverlast — Sint-Job",
        "Place de Saint-Job, Uccle",
        square(4.3645, 50.7955, 250),
        "Orage, 40 interventions SIAMU / Onweer, 40 interventies DBDMH",
        shared=True,
    ),
    IncidentRow(
        "2024-01-23-outage-josaphat",
        "utility_outage",
        "moderate",
        "closed",
        "2024-01-23T19:05:00+01:00",
        "2024-01-23T23:40:00+01:00",
        "Panne d'électricité — quartier Josaphat / Stroompanne — Josafatwijk",
        "Quartier Josaphat, Schaerbeek",
        point(4.3850, 50.8630),
        "Sibelga: câble moyenne tension, ~3 000 raccordements / ~3 000 aansluitingen",
    ),
    IncidentRow(
        "2024-07-01-public-order-flagey",
        "public_order",
        "moderate",
        "resolved",
        "2024-07-01T20:15:00+02:00",
        None,
        "Troubles après un match de l'Euro — Place Flagey / Onlusten na EK-match — Flageyplein",
        "Place Flagey, Ixelles",
        point(4.3722, 50.8275),
        "Jets de projectiles, 6 arrestations administratives / 6 bestuurlijke aanhoudingen",
        shared=True,
    ),
    IncidentRow(
        "2024-11-07-hazmat-canal",
        "hazmat",
        "severe",
        "ongoing",
        "2024-11-07T10:20:00+01:00",
        None,
        "Fuite de produit chimique sur une péniche — quai des Charbonnages / Lek "
        "chemisch product op binnenschip — Koolmijnenkaai",
        "Quai des Charbonnages, Molenbeek-Saint-Jean",
        point(4.3370, 50.8540),
        "Port de Bruxelles et SIAMU sur place, navigation arrêtée / Haven van Brussel en "
        "DBDMH ter plaatse, scheepvaart stilgelegd",
        shared=True,
    ),
    IncidentRow(
        "2024-12-04-metro-arts-loi-merode",
        "transport_disruption",
        "moderate",
        "reported",
        "2024-12-04T08:05:00+01:00",
        None,
        "Métro 1 et 5 interrompus entre Arts-Loi et Merode / Metro 1 en 5 onderbroken "
        "tussen Kunst-Wet en Merode",
        "Lignes 1 et 5 STIB, entre Arts-Loi et Merode",
        line(ARTS_LOI, MAELBEEK, SCHUMAN, (4.3925, 50.8405), MERODE),
        "Panne de signalisation, bus de remplacement / Seinpanne, vervangbussen",
        shared=True,
    ),
    IncidentRow(
        "2024-10-21-threat-berlaymont",
        "threat",
        "severe",
        "confirmed",
        "2024-10-21T11:30:00+02:00",
        None,
        "Menace — Berlaymont / Dreiging — Berlaymont",
        "Berlaymont, rue de la Loi, Bruxelles",
        point(4.3826, 50.8433),
        "Lettre de menace, évaluation OCAM en cours / Dreigbrief, OCAD-evaluatie loopt",
    ),
    IncidentRow(
        "2024-08-12-heat-atomium",
        "health",
        "minor",
        "closed",
        "2024-08-12T15:20:00+02:00",
        "2024-08-12T17:30:00+02:00",
        "Malaises dus à la chaleur — Atomium / Onwel door hitte — Atomium",
        "File d'attente de l'Atomium, Laeken",
        point(4.3415, 50.8949),
        "5 personnes prises en charge / 5 personen verzorgd",
        shared=True,
    ),
    IncidentRow(
        "2024-10-03-ftx-woluwe",
        "explosion",
        "extreme",
        "closed",
        "2024-10-03T09:00:00+02:00",
        "2024-10-03T12:30:00+02:00",
        "EXERCICE — explosion simulée, Woluwe Shopping / OEFENING — gesimuleerde "
        "ontploffing, Woluwe Shopping",
        "Woluwe Shopping, Woluwe-Saint-Lambert",
        point(4.4330, 50.8470),
        "Exercice de terrain (FTX) multidisciplinaire / Multidisciplinaire terreinoefening (FTX)",
        exercise=True,
    ),
    IncidentRow(
        "2024-12-22-storm-boitsfort",
        "flooding_storm",
        "moderate",
        "ongoing",
        "2024-12-22T06:30:00+01:00",
        None,
        "Chutes d'arbres après une tempête — Boitsfort / Omgevallen bomen na storm — Bosvoorde",
        "Place Keym, Watermael-Boitsfort",
        point(4.4175, 50.7990),
        "Voiries bloquées, SIAMU et Bruxelles Environnement / Wegen versperd, DBDMH en "
        "Leefmilieu Brussel",
    ),
)

# How an incident reaches its present status from one it may start in (see incident.SPEC).
STATUS_PATH: dict[str, tuple[str, ...]] = {
    "reported": ("reported",),
    "confirmed": ("confirmed",),
    "ongoing": ("ongoing",),
    "resolved": ("ongoing", "resolved"),
    "closed": ("ongoing", "resolved", "closed"),
    "false_alarm": ("reported", "false_alarm"),
}

ACTIVATION = Item(
    "2024-papal-visit-gcc",
    {
        "title": "GCC — Visite papale / CCC — Pausbezoek",
        "description": "Coordination régionale des services pendant la visite papale / "
        "Gewestelijke coördinatie van de diensten tijdens het pausbezoek",
        "level": "coordination",
        "coordinator": "high_official",
        "opened_at": "2024-09-26T17:00:00+02:00",
        "members": [
            "PZ 5339",
            "PZ 5340",
            "SIAMU/DBDMH",
            "STIB/MIVB",
            "Ville de Bruxelles",
            "Police fédérale / Federale politie",
            "Centre de crise national / NCCN",
        ],
        "visibility": "shared",
    },
)
# Closed once its log is written, as the watch would.
ACTIVATION_CLOSED = {"status": "closed", "closed_at": "2024-09-29T16:00:00+02:00"}

# key, kind, occurred_at, title, description
LOGBOOK: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "decision-opening",
        "decision",
        "2024-09-26T17:00:00+02:00",
        "Ouverture du GCC en phase de coordination / Opening CCC in coördinatiefase",
        "Le Haut Fonctionnaire coordonne; cellule de crise au centre régional. / De Hoge "
        "Ambtenaar coördineert; crisiscel in het gewestelijk centrum.",
    ),
    (
        "communication-drone-ban",
        "communication",
        "2024-09-26T18:15:00+02:00",
        "Interdiction de drones communiquée aux partenaires / Droneverbod gemeld aan partners",
        "Arrêté du Ministre-Président diffusé aux zones de police, à la STIB et aux communes. / "
        "Besluit van de Minister-President verspreid naar politiezones, MIVB en gemeenten.",
    ),
    (
        "sitrep-1",
        "sitrep",
        "2024-09-27T08:00:00+02:00",
        "SITREP 1 — périmètre Palais royal en place / Perimeter Koninklijk Paleis actief",
        "Nuit calme. Zone rouge activée à 07h00, cortège prêt au départ de la Nonciature. / "
        "Rustige nacht. Rode zone actief om 7 uur, konvooi klaar bij de Nuntiatuur.",
    ),
    (
        "action-stib-diversions",
        "action",
        "2024-09-28T16:00:00+02:00",
        "STIB: déviations autour du Heysel pour la messe / MIVB: omleidingen rond de Heizel",
        "Trams 7 et 51 limités, navettes renforcées depuis Roi Baudouin et Heysel. / Trams 7 en "
        "51 ingekort, extra pendels vanaf Koning Boudewijn en Heizel.",
    ),
    (
        "handover-night",
        "handover",
        "2024-09-28T21:00:00+02:00",
        "Relève de l'équipe de nuit / Overdracht aan de nachtploeg",
        "Points ouverts: ouverture des accès au stade à 05h00, poste médical avancé, parking C. / "
        "Open punten: toegang stadion om 5 uur, medische post, parking C.",
    ),
    (
        "sitrep-final",
        "sitrep",
        "2024-09-29T13:30:00+02:00",
        "SITREP final — messe terminée, évacuation du site en cours / Eind-SITREP — mis afgelopen",
        "Environ 35 000 participants, prises en charge médicales mineures, aucun incident "
        "majeur. / Ongeveer 35 000 deelnemers, kleine medische tussenkomsten, geen groot incident.",
    ),
)

# key, name (FR / NL), lon, lat: the 17 priority hotspots' places, sample data only.
HOTSPOTS: tuple[tuple[str, str, float, float], ...] = (
    ("gare-du-midi", "Gare du Midi / Zuidstation", 4.3375, 50.8370),
    ("clemenceau", "Clemenceau", 4.3295, 50.8413),
    ("porte-de-hal", "Porte de Hal / Hallepoort", 4.3455, 50.8335),
    ("anneessens", "Anneessens", 4.3445, 50.8445),
    ("yser", "Yser / IJzer", 4.3495, 50.8556),
    ("ribaucourt", "Ribaucourt", 4.3420, 50.8585),
    ("gare-du-nord", "Gare du Nord / Noordstation", 4.3605, 50.8605),
    ("rogier", "Rogier", 4.3585, 50.8545),
    ("rue-de-brabant", "Rue de Brabant / Brabantstraat", 4.3650, 50.8640),
    ("peterbos", "Peterbos", 4.2960, 50.8400),
    ("comte-de-flandre", "Comte de Flandre / Graaf van Vlaanderen", 4.3390, 50.8545),
    ("etangs-noirs", "Étangs Noirs / Zwarte Vijvers", 4.3325, 50.8565),
    ("lemonnier", "Lemonnier", 4.3405, 50.8400),
    ("bockstael", "Bockstael", 4.3480, 50.8750),
    ("simonis", "Simonis", 4.3290, 50.8630),
    ("place-liedts", "Place Liedts / Liedtsplein", 4.3720, 50.8660),
    ("parvis-de-saint-gilles", "Parvis de Saint-Gilles / Sint-Gillisvoorplein", 4.3455, 50.8305),
)
HOTSPOT_SIDE_M = 150
# What the hotspot fiches show beyond incidents (issue 17): police measures, one extended, and
# an evaluation note, shared with the Public Order service. Sample data, not real orders.
PUBLIC_ORDER = "safe-ordre-public"
HOTSPOT_MEASURES: tuple[tuple[str, Item], ...] = (
    (
        "clemenceau",
        Item(
            "hotspot:clemenceau:measure:2024-gathering-ban",
            {
                "title": "Interdiction de rassemblement (exemple) / Samenscholingsverbod",
                "description": SAMPLE_NOTE,
                "kind": "gathering_ban",
                "legal_basis": "Art. 134sexies Nouvelle loi communale / Nieuwe Gemeentewet",
                "reference": "Exemple 2024/117",
                "authority": "Bourgmestre d'Anderlecht / Burgemeester van Anderlecht",
                "valid_from": "2024-06-01T00:00:00+02:00",
                "valid_to": "2024-12-01T00:00:00+01:00",
                "shared_with": [PUBLIC_ORDER],
            },
        ),
    ),
    (
        "gare-du-midi",
        Item(
            "hotspot:gare-du-midi:measure:cameras",
            {
                "title": "Caméras de surveillance (exemple) / Bewakingscamera's (voorbeeld)",
                "description": SAMPLE_NOTE,
                "kind": "camera_surveillance",
                "legal_basis": "Loi caméras du 21 mars 2007 / Camerawet van 21 maart 2007",
                "reference": "Exemple CAM-2023-04",
                "authority": "Conseil communal de Saint-Gilles / Gemeenteraad van Sint-Gillis",
                "valid_from": "2023-04-01T00:00:00+02:00",
                "shared_with": [PUBLIC_ORDER],
            },
        ),
    ),
)
HOTSPOT_EXTENSION = police_measure.Extension(
    until=datetime(2025, 6, 1, tzinfo=ZoneInfo("Europe/Brussels")),
    reference="Exemple 2024/233",
    decided_at=datetime(2024, 11, 20, 10, 0, tzinfo=ZoneInfo("Europe/Brussels")),
    note="Prolongation de six mois après évaluation / Verlenging met zes maanden na evaluatie",
)
HOTSPOT_NOTE = Item(
    "hotspot:clemenceau:note:2024-q4",
    {
        "title": "Évaluation du 4e trimestre (exemple) / Evaluatie 4e kwartaal (voorbeeld)",
        "description": (
            "Moins de deal visible sur la place depuis l'interdiction; report partiel vers la rue "
            "voisine. Prolongation recommandée. / Minder zichtbare dealing; gedeeltelijke "
            "verplaatsing naar de naburige straat. Verlenging aanbevolen."
        ),
        "noted_at": "2024-11-15T10:00:00+01:00",
        "author": "Task force locale Clemenceau (exemple)",
        "shared_with": [PUBLIC_ORDER],
    },
)


def _props(schema: type[BaseModel], values: dict[str, Any]) -> Props:
    props = schema.model_validate(values)
    assert isinstance(props, Props)
    return props


class Loader:
    """Writes the scenario's objects in one session and counts those created in this run.
    `source` names the set the external ids belong to (app.demo_year loads its own)."""

    def __init__(self, session: AsyncSession, source: str = SOURCE) -> None:
        self.session = session
        self.source = source
        self.created: dict[str, int] = {s.entity.value: 0 for s in SPECS}

    async def put(self, spec: EntitySpec, item: Item, **links: Any) -> objects.Written:
        values = {**item.props, **links, "source": self.source, "external_id": item.key}
        geometry = (
            None
            if item.geometry is None
            else await parse_geometry(item.geometry, allowed=spec.geometry_types)
        )
        written = await objects.create(
            self.session, spec, _props(spec.create_schema, values), geometry, DEMO_ACTOR.as_actor
        )
        if written.created:
            self.created[spec.entity.value] += 1
            await self.advance(spec, written, item.then)
        return written

    async def put_as(
        self, spec: EntitySpec, key: str, props: dict[str, Any], **links: Any
    ) -> objects.Written:
        """`put` for a scenario written as plain values (app.demo_cell)."""
        return await self.put(spec, Item(key, props), **links)

    async def advance(
        self, spec: EntitySpec, written: objects.Written, changes: tuple[dict[str, Any], ...]
    ) -> None:
        for change in changes:
            patch = _props(spec.update_schema, change)
            written = await objects.update(
                self.session, spec, written.id, patch, None, written.version, DEMO_ACTOR.as_actor
            )

    async def put_zone(self, row: ZoneRow, parent: Item, parent_id: uuid.UUID) -> None:
        props = {
            "title": row.title,
            "description": row.description,
            "kind": row.kind,
            "valid_from": row.valid_from,
            "valid_to": row.valid_to,
            "visibility": "shared" if row.shared else "internal",
        }
        item = Item(f"{parent.key}:zone:{row.key}", props, row.geometry)
        await self.put(zone.SPEC, item, parent_entity="planned_event", parent_id=parent_id)

    async def put_incident(self, row: IncidentRow) -> objects.Written:
        first, *later = STATUS_PATH[row.status]
        changes: list[dict[str, Any]] = [{"status": s} for s in later]
        if changes and row.closed:
            # On the last step, so the derived closed_at is the recorded time, not "now".
            changes[-1]["closed_at"] = row.closed
        props = {
            "title": row.title,
            "description": row.description,
            "category": row.category,
            "severity": row.severity,
            "status": first,
            "place": row.place,
            "occurred_at": row.occurred,
            "reported_at": row.occurred,
            "visibility": "shared" if row.shared else "internal",
            "exercise": row.exercise,
        }
        return await self.put(
            incident.SPEC, Item(f"incident:{row.key}", props, row.geometry, tuple(changes))
        )

    async def put_hotspot(self, key: str, name: str, lon: float, lat: float) -> objects.Written:
        props = {
            "title": f"Hotspot drogue (exemple) — {name} / Drugshotspot (voorbeeld)",
            "description": SAMPLE_NOTE,
            "kind": "hotspot",
        }
        item = Item(f"hotspot:{key}", props, square(lon, lat, HOTSPOT_SIDE_M))
        return await self.put(zone.SPEC, item)


async def load_scenario(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Load the demo scenario in one transaction; answer how many objects of each kind it created.

    A repeated run creates nothing: every object is found again by its (source, external_id).
    """
    async with transaction(sessions) as session:
        load = Loader(session)
        visit = await load.put(planned_event.SPEC, PAPAL_VISIT)
        for z in PAPAL_ZONES:
            await load.put_zone(z, PAPAL_VISIT, visit.id)
        sports = await load.put(planned_event.SPEC, MATCH)
        await load.put_zone(MATCH_ZONE, MATCH, sports.id)
        for item in DEMONSTRATIONS:
            await load.put(demonstration.SPEC, item)
        written = {row.key: await load.put_incident(row) for row in INCIDENTS}

        gcc = await load.put(
            activation.SPEC, ACTIVATION, subject_entity="planned_event", subject_id=visit.id
        )
        await demo_cell.load_papal_cell(
            sessions, session, load.put_as, DEMO_ACTOR.as_actor, gcc, visit.id
        )
        for key, kind, occurred, title, text in LOGBOOK:
            entry = {"title": title, "description": text, "kind": kind, "occurred_at": occurred}
            await load.put(
                logbook_entry.SPEC,
                Item(f"{ACTIVATION.key}:log:{key}", entry),
                subject_entity="activation",
                subject_id=gcc.id,
            )
        if gcc.created:
            await load.advance(activation.SPEC, gcc, (ACTIVATION_CLOSED,))

        # The night-time fire in Cureghem, whose activation escalates (app.demo_cell).
        fire = written["2024-02-17-fire-cureghem"]
        await demo_cell.load_night_cell(session, load.put_as, DEMO_ACTOR.as_actor, fire.id)

        hotspots = {k: await load.put_hotspot(k, name, lon, lat) for k, name, lon, lat in HOTSPOTS}
        for key, item in HOTSPOT_MEASURES:
            measure = await load.put(police_measure.SPEC, item, zone_ids=[hotspots[key].id])
            if measure.created and key == "clemenceau":
                await police_measure.extend(
                    session,
                    measure.id,
                    HOTSPOT_EXTENSION,
                    measure.version,
                    DEMO_ACTOR.as_actor,
                    None,
                    datetime.now(UTC),
                )
        await load.put(hotspot_note.SPEC, HOTSPOT_NOTE, zone_ids=[hotspots["clemenceau"].id])
    return load.created
