"""A plausible year of the crisis centre's activity whose annual figures are the published ones
(`sitcen demo --year 2024`).

For 2024 the crisis centre published 115 GCC activations (25 coordinated by SITCEN), 33 planned
events, 30 demonstrations, 6 summits, 11 delegation visits and 2 field exercises (FTX). This
loads the demo scenario (app.demo: the papal visit, the Belgium–Italy match, two demonstrations,
the night-time fire...) and completes it to exactly those figures: the year's landmarks
(the Bright festival, the elections of 9 June and 13 October, 21 July, New Year's Eve, the six
European Councils, a cup final...), demonstrations, incidents spread over the year by season,
the activations they led to, alerts to partners with their acknowledgements and quarterly
alarm tests. Places are real and lie in the municipality they name (tests/reports check it);
the delegation visits, demonstrations and incidents are sample data, not a record.

Written through the one write path (app.demo.Loader: `objects.create` with a stable
`external_id` under the source `demo-year`), in one transaction, from a fixed seed: a second
run finds every object and creates nothing. Alerts and alarm tests, which have no external id,
are found again by their sending time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.enums import AckVia, CapSeverity, CapStatus, Certainty, MsgType, Origin, Urgency
from app.alerts.lifecycle import campaigns, service
from app.alerts.lifecycle.compose import CATEGORY, AlertDraft
from app.alerts.models import Alert, Campaign, Delivery, Recipient
from app.alerts.settings import get_alert_settings
from app.db import transaction
from app.demo import STATUS_PATH, Item, Loader, load_scenario, point
from app.domain import activation, demonstration, incident, objects, planned_event
from app.geo.reference import ReferenceArea

BRUSSELS = ZoneInfo("Europe/Brussels")
SOURCE = "demo-year"
ACTOR = "demo"
SEED = 2024


@dataclass(frozen=True)
class Published:
    """The figures the crisis centre published for a year."""

    activations: int
    activations_coordinated_by_sitcen: int
    planned_events: int
    demonstrations: int
    summits: int
    delegation_visits: int
    field_exercises: int


PUBLISHED: dict[int, Published] = {
    2024: Published(
        activations=115,
        activations_coordinated_by_sitcen=25,
        planned_events=33,
        demonstrations=30,
        summits=6,
        delegation_visits=11,
        field_exercises=2,
    )
}

# key: (name FR / NL, lon, lat, NIS code of its municipality). Points well inside it.
# fmt: off
PLACES: dict[str, tuple[str, float, float, str]] = {
    "grand-place": ("Grand-Place / Grote Markt", 4.3525, 50.8467, "21004"),
    "palais-royal": ("Palais royal / Koninklijk Paleis", 4.3622, 50.8417, "21004"),
    "atomium": ("Atomium", 4.3415, 50.8949, "21004"),
    "stade-roi-baudouin": ("Stade Roi Baudouin / Koning Boudewijnstadion", 4.334, 50.8957, "21004"),
    "europa": ("Bâtiment Europa, rue de la Loi / Europagebouw, Wetstraat", 4.3807, 50.8423, "21004"),  # noqa: E501
    "berlaymont": ("Berlaymont", 4.3826, 50.8433, "21004"),
    "egmont": ("Palais d'Egmont / Egmontpaleis", 4.358, 50.8385, "21004"),
    "parlement": ("Parlement fédéral / Federaal Parlement", 4.365, 50.8465, "21004"),
    "mont-des-arts": ("Mont des Arts / Kunstberg", 4.357, 50.8442, "21004"),
    "bourse": ("Place de la Bourse / Beursplein", 4.35, 50.8483, "21004"),
    "tour-taxis": ("Tour & Taxis / Thurn & Taxis", 4.3475, 50.8665, "21004"),
    "heysel": ("Brussels Expo — Heysel / Heizel", 4.338, 50.9, "21004"),
    "poelaert": ("Place Poelaert / Poelaertplein", 4.352, 50.838, "21004"),
    "cinquantenaire": ("Parc du Cinquantenaire / Jubelpark", 4.3905, 50.8405, "21004"),
    "laeken": ("Parc de Laeken / Park van Laken", 4.359, 50.883, "21004"),
    "gare-centrale": ("Gare Centrale / Centraal Station", 4.357, 50.8455, "21004"),
    "flagey": ("Place Flagey / Flageyplein", 4.3722, 50.8275, "21009"),
    "luxembourg": ("Place du Luxembourg / Luxemburgplein", 4.3733, 50.8387, "21009"),
    "etangs-ixelles": ("Étangs d'Ixelles / Vijvers van Elsene", 4.3735, 50.822, "21009"),
    "fernand-cocq": ("Place Fernand Cocq / Fernand Cocqplein", 4.367, 50.834, "21009"),
    "gare-du-midi": ("Gare du Midi / Zuidstation", 4.3365, 50.8357, "21013"),
    "parvis-saint-gilles": ("Parvis de Saint-Gilles / Sint-Gillisvoorplein", 4.3455, 50.8305, "21013"),  # noqa: E501
    "barriere": ("Barrière de Saint-Gilles / Bareel van Sint-Gillis", 4.344, 50.8262, "21013"),
    "gare-du-nord": ("Gare du Nord / Noordstation", 4.3611, 50.8603, "21015"),
    "meiser": ("Place Meiser / Meiserplein", 4.3967, 50.8536, "21015"),
    "josaphat": ("Parc Josaphat / Josafatpark", 4.385, 50.863, "21015"),
    "liedts": ("Place Liedts / Liedtsplein", 4.372, 50.866, "21015"),
    "reyers": ("Boulevard Reyers / Reyerslaan", 4.4035, 50.852, "21015"),
    "lotto-park": ("Lotto Park, parc Astrid / Astridpark", 4.2985, 50.8345, "21001"),
    "clemenceau": ("Métro Clemenceau", 4.3295, 50.8413, "21001"),
    "peterbos": ("Peterbos", 4.296, 50.84, "21001"),
    "erasme": ("Hôpital Erasme / Erasmusziekenhuis", 4.2655, 50.8125, "21001"),
    "cureghem": ("Chaussée de Mons, Cureghem / Bergensesteenweg, Kuregem", 4.3305, 50.839, "21001"),
    "forest-national": ("Forest National / Vorst Nationaal", 4.329, 50.81, "21007"),
    "joseph-marien": ("Stade Joseph Marien / Joseph Marienstadion", 4.3285, 50.8175, "21007"),
    "wiels": ("Wiels", 4.3255, 50.8255, "21007"),
    "molenbeek": ("Place communale de Molenbeek / Gemeenteplein", 4.335, 50.8555, "21012"),
    "karreveld": ("Château du Karreveld / Kasteel Karreveld", 4.313, 50.855, "21012"),
    "basilique": ("Basilique de Koekelberg / Basiliek van Koekelberg", 4.3172, 50.8667, "21011"),
    "uz-brussel": ("UZ Brussel", 4.303, 50.887, "21010"),
    "jette": ("Place Reine Astrid, Jette / Koningin Astridplein", 4.3265, 50.878, "21010"),
    "ganshoren": ("Place Guido Gezelle, Ganshoren / Guido Gezelleplein", 4.311, 50.872, "21008"),
    "berchem": ("Place de l'Église, Berchem / Kerkplein", 4.293, 50.864, "21003"),
    "evere": ("Maison communale d'Evere / Gemeentehuis Evere", 4.4025, 50.869, "21006"),
    "saint-josse": ("Place Saint-Josse / Sint-Joostplein", 4.373, 50.8495, "21014"),
    "botanique": ("Botanique / Kruidtuin", 4.366, 50.8548, "21014"),
    "jourdan": ("Place Jourdan / Jourdanplein", 4.382, 50.837, "21005"),
    "la-chasse": ("La Chasse / De Jacht", 4.389, 50.8325, "21005"),
    "woluwe-shopping": ("Woluwe Shopping", 4.433, 50.847, "21018"),
    "saint-luc": ("Cliniques Saint-Luc / Sint-Lucas", 4.452, 50.853, "21018"),
    "stockel": ("Stockel / Stokkel", 4.453, 50.8385, "21019"),
    "nonciature": ("Nonciature / Nuntiatuur", 4.419, 50.8322, "21019"),
    "delta": ("Delta, Auderghem / Oudergem", 4.403, 50.818, "21002"),
    "rouge-cloitre": ("Rouge-Cloître / Rood Klooster", 4.428, 50.817, "21002"),
    "saint-job": ("Place de Saint-Job / Sint-Jobplein", 4.3645, 50.7955, "21016"),
    "globe": ("Le Globe, Uccle / Ukkel", 4.339, 50.804, "21016"),
    "keym": ("Place Keym / Keymplein", 4.4175, 50.799, "21017"),
}
# fmt: on


class Event(NamedTuple):
    """A planned event: key, kind, title (FR / NL), start and end (Brussels), place,
    expected attendance, risk level, and the level of the activation it led to (or None)."""

    key: str
    kind: str
    title: str
    starts: str
    ends: str
    place: str
    attendance: int
    risk: str
    activation: str | None


# The scenario (app.demo) already holds two of the year's planned events: the papal visit
# (26-29/09) and Belgium–Italy (14/10), each with its activation.
# fmt: off
EVENTS: tuple[Event, ...] = (
    Event("new-year-reception", "official_visit", "Réception du Nouvel An du corps diplomatique / Nieuwjaarsreceptie diplomatiek korps", "2024-01-10T10:00", "2024-01-10T14:00", "palais-royal", 600, "medium", None),  # noqa: E501
    Event("bright", "festival", "Bright Brussels — festival des lumières / lichtfestival", "2024-02-15T18:00", "2024-02-18T23:00", "mont-des-arts", 150000, "high", "coordination"),  # noqa: E501
    Event("derby", "sports_match", "RSC Anderlecht – Union SG, derby bruxellois / Brusselse derby", "2024-03-10T16:00", "2024-03-10T21:00", "lotto-park", 21000, "high", "coordination"),  # noqa: E501
    Event("22-march", "commemoration", "Commémoration des attentats du 22 mars / Herdenking aanslagen 22 maart", "2024-03-22T07:30", "2024-03-22T12:00", "europa", 800, "medium", None),  # noqa: E501
    Event("cup-final", "sports_match", "Finale de la Coupe de Belgique / Bekerfinale", "2024-05-09T16:00", "2024-05-09T22:30", "stade-roi-baudouin", 45000, "high", "coordination"),  # noqa: E501
    Event("pride", "mass_event", "Brussels Pride", "2024-05-18T12:00", "2024-05-18T23:00", "bourse", 200000, "high", "coordination"),  # noqa: E501
    Event("zinneke", "festival", "Zinneke Parade", "2024-05-25T13:00", "2024-05-25T20:00", "grand-place", 50000, "medium", "coordination"),  # noqa: E501
    Event("20km", "mass_event", "20 km de Bruxelles / 20 km door Brussel", "2024-05-26T08:00", "2024-05-26T15:00", "cinquantenaire", 40000, "high", "coordination"),  # noqa: E501
    Event("stockel-flea", "mass_event", "Brocante de Stockel / Rommelmarkt Stokkel", "2024-05-12T07:00", "2024-05-12T18:00", "stockel", 15000, "low", None),  # noqa: E501
    Event("elections-june", "election", "Élections régionales, fédérales et européennes / Gewest-, federale en Europese verkiezingen", "2024-06-09T07:00", "2024-06-10T02:00", "parlement", 0, "high", "coordination"),  # noqa: E501
    Event("concert-june", "mass_event", "Concert au Stade Roi Baudouin / Concert in het Koning Boudewijnstadion", "2024-06-15T16:00", "2024-06-16T00:30", "stade-roi-baudouin", 50000, "high", "coordination"),  # noqa: E501
    Event("fete-musique", "festival", "Fête de la Musique / Feest van de Muziek", "2024-06-21T17:00", "2024-06-23T23:00", "flagey", 25000, "medium", None),  # noqa: E501
    Event("josaphat-fest", "festival", "Fête du parc Josaphat / Josafatparkfeest", "2024-06-29T12:00", "2024-06-30T22:00", "josaphat", 8000, "low", None),  # noqa: E501
    Event("couleur-cafe", "festival", "Couleur Café", "2024-06-28T14:00", "2024-06-30T23:59", "heysel", 70000, "medium", "coordination"),  # noqa: E501
    Event("ommegang", "festival", "Ommegang", "2024-07-03T20:00", "2024-07-05T23:30", "grand-place", 10000, "medium", None),  # noqa: E501
    Event("concert-july", "mass_event", "Concert au Stade Roi Baudouin / Concert in het Koning Boudewijnstadion", "2024-07-12T16:00", "2024-07-13T00:30", "stade-roi-baudouin", 50000, "high", "coordination"),  # noqa: E501
    Event("foire-du-midi", "festival", "Foire du Midi / Zuidfoor", "2024-07-20T14:00", "2024-08-25T23:00", "gare-du-midi", 500000, "medium", "monitoring"),  # noqa: E501
    Event("21-july", "commemoration", "Fête nationale: défilé et fête au parc / Nationale feestdag: defilé en feest in het park", "2024-07-21T09:00", "2024-07-21T23:59", "palais-royal", 100000, "very_high", "coordination"),  # noqa: E501
    Event("meyboom", "festival", "Meyboom", "2024-08-09T13:00", "2024-08-09T20:00", "grand-place", 5000, "low", None),  # noqa: E501
    Event("flower-carpet", "festival", "Tapis de fleurs / Bloementapijt", "2024-08-15T10:00", "2024-08-18T23:00", "grand-place", 100000, "medium", "monitoring"),  # noqa: E501
    Event("summer-festival", "festival", "Brussels Summer Festival", "2024-08-14T17:00", "2024-08-18T23:59", "mont-des-arts", 60000, "medium", None),  # noqa: E501
    Event("van-damme", "sports_match", "Mémorial Van Damme, finale Diamond League / Memorial Van Damme", "2024-09-13T17:00", "2024-09-14T23:00", "stade-roi-baudouin", 45000, "high", "coordination"),  # noqa: E501
    Event("jette-fair", "festival", "Foire annuelle de Jette / Jaarmarkt van Jette", "2024-09-07T08:00", "2024-09-08T20:00", "jette", 12000, "low", None),  # noqa: E501
    Event("saint-job-fair", "festival", "Kermesse de Saint-Job / Kermis van Sint-Job", "2024-09-14T12:00", "2024-09-15T22:00", "saint-job", 6000, "low", None),  # noqa: E501
    Event("car-free", "mass_event", "Dimanche sans voiture / Autoloze zondag", "2024-09-22T09:30", "2024-09-22T19:00", "cinquantenaire", 100000, "medium", "coordination"),  # noqa: E501
    Event("marathon", "mass_event", "Brussels Airport Marathon", "2024-10-06T08:00", "2024-10-06T16:00", "cinquantenaire", 30000, "high", "coordination"),  # noqa: E501
    Event("elections-october", "election", "Élections communales / Gemeenteraadsverkiezingen", "2024-10-13T07:00", "2024-10-14T01:00", "grand-place", 0, "medium", "monitoring"),  # noqa: E501
    Event("11-november", "commemoration", "Armistice — Colonne du Congrès / Wapenstilstand — Congreskolom", "2024-11-11T10:00", "2024-11-11T12:30", "botanique", 1500, "medium", None),  # noqa: E501
    Event("forest-concert", "mass_event", "Concert à Forest National / Concert in Vorst Nationaal", "2024-11-23T18:00", "2024-11-23T23:59", "forest-national", 8000, "medium", None),  # noqa: E501
    Event("winter-wonders", "festival", "Plaisirs d'hiver / Winterpret", "2024-11-29T12:00", "2025-01-05T22:00", "bourse", 2000000, "high", "coordination"),  # noqa: E501
    Event("new-years-eve", "mass_event", "Réveillon du Nouvel An — feu d'artifice / Oudejaarsavond — vuurwerk", "2024-12-31T20:00", "2025-01-01T03:00", "mont-des-arts", 80000, "very_high", "crisis_cell"),  # noqa: E501
)
# fmt: on

# The six European Councils of 2024 at the Europa building (the summits).
SUMMITS: tuple[tuple[str, str], ...] = (
    ("2024-02-01T08:00", "2024-02-01T22:00"),
    ("2024-03-21T08:00", "2024-03-22T18:00"),
    ("2024-04-17T08:00", "2024-04-18T18:00"),
    ("2024-06-27T08:00", "2024-06-28T18:00"),
    ("2024-10-17T08:00", "2024-10-18T18:00"),
    ("2024-12-19T08:00", "2024-12-20T18:00"),
)
# Delegation visits (sample): a date and the place the delegation is received.
DELEGATIONS: tuple[tuple[str, str], ...] = (
    ("2024-01-16", "egmont"),
    ("2024-02-20", "palais-royal"),
    ("2024-03-12", "berlaymont"),
    ("2024-04-09", "egmont"),
    ("2024-05-14", "parlement"),
    ("2024-06-18", "palais-royal"),
    ("2024-07-09", "berlaymont"),
    ("2024-09-10", "egmont"),
    ("2024-10-22", "grand-place"),
    ("2024-11-19", "palais-royal"),
    ("2024-12-03", "berlaymont"),
)
# Field training exercises: key, title, start, end, place. The scenario's simulated explosion
# at Woluwe Shopping (an incident flagged `exercise`) was played during the second.
# fmt: off
FTX: tuple[tuple[str, str, str, str, str], ...] = (
    ("ftx-metro", "FTX métro — incendie simulé station Delta / FTX metro — gesimuleerde brand station Delta", "2024-04-16T22:00", "2024-04-17T03:00", "delta"),  # noqa: E501
    ("ftx-woluwe", "FTX multidisciplinaire — Woluwe Shopping / Multidisciplinaire FTX — Woluwe Shopping", "2024-10-03T08:30", "2024-10-03T13:00", "woluwe-shopping"),  # noqa: E501
)
# fmt: on

# Demonstrations (sample): date, start hour, subject (FR / NL), place, participants, and
# whether the watch opened an activation. The scenario holds two more (13/12 and 16/11).
# fmt: off
DEMONSTRATIONS: tuple[tuple[str, int, str, str, int, bool], ...] = (
    ("2024-01-21", 14, "Marche pour Gaza / Mars voor Gaza", "gare-du-nord", 20000, True),
    ("2024-01-26", 10, "Agriculteurs — tracteurs / Landbouwers — tractoren", "luxembourg", 1500, True),  # noqa: E501
    ("2024-02-01", 8, "Agriculteurs au sommet européen / Landbouwers aan de Europese top", "luxembourg", 5000, True),  # noqa: E501
    ("2024-02-13", 10, "Enseignants / Leerkrachten", "gare-du-nord", 8000, True),
    ("2024-02-26", 8, "Agriculteurs — Conseil Agriculture / Landbouwers — Landbouwraad", "europa", 3000, True),  # noqa: E501
    ("2024-03-08", 17, "Journée des droits des femmes / Vrouwendag", "mont-des-arts", 4000, False),
    ("2024-03-10", 14, "Marche pour la paix / Vredesmars", "gare-du-nord", 15000, True),
    ("2024-03-24", 14, "Contre le racisme / Tegen racisme", "gare-du-midi", 3000, False),
    ("2024-04-14", 14, "Rassemblement Gaza / Samenkomst Gaza", "bourse", 2500, False),
    ("2024-04-28", 14, "Climat — vélos / Klimaat — fietsen", "cinquantenaire", 2000, False),
    ("2024-05-01", 11, "Fête du travail / Dag van de arbeid", "parvis-saint-gilles", 2000, False),
    ("2024-05-12", 14, "Soins de santé / Gezondheidszorg", "gare-du-nord", 10000, True),
    ("2024-05-22", 12, "Sans-papiers / Mensen zonder papieren", "molenbeek", 800, False),
    ("2024-06-02", 14, "Marche pour le climat / Klimaatmars", "gare-du-nord", 6000, True),
    ("2024-06-06", 18, "Rassemblement devant la Commission / Samenkomst aan de Commissie", "berlaymont", 600, False),  # noqa: E501
    ("2024-06-23", 14, "Rassemblement Kurdistan / Samenkomst Koerdistan", "liedts", 1200, False),
    ("2024-07-07", 15, "Rassemblement Ukraine / Samenkomst Oekraïne", "luxembourg", 900, False),
    ("2024-09-08", 14, "Marche pour Gaza / Mars voor Gaza", "gare-du-nord", 25000, True),
    ("2024-09-19", 18, "Étudiants — ULB / Studenten — ULB", "etangs-ixelles", 700, False),
    ("2024-10-06", 14, "Un an de guerre — Gaza / Een jaar oorlog — Gaza", "gare-du-nord", 30000, True),  # noqa: E501
    ("2024-10-14", 11, "Pension des enseignants / Pensioen leerkrachten", "fernand-cocq", 2000, False),  # noqa: E501
    ("2024-10-27", 14, "Rassemblement Liban / Samenkomst Libanon", "bourse", 2000, False),
    ("2024-11-05", 12, "Agriculteurs — Mercosur / Landbouwers — Mercosur", "europa", 1000, True),
    ("2024-11-24", 14, "Violences faites aux femmes / Geweld tegen vrouwen", "gare-du-nord", 12000, True),  # noqa: E501
    ("2024-11-30", 14, "Rassemblement Géorgie / Samenkomst Georgië", "berlaymont", 800, False),
    ("2024-12-01", 14, "Marche pour Gaza / Mars voor Gaza", "gare-du-midi", 10000, True),
    ("2024-12-08", 15, "Rassemblement Syrie / Samenkomst Syrië", "bourse", 3000, False),
    ("2024-12-15", 14, "Jeunes pour le climat / Jongeren voor het klimaat", "mont-des-arts", 1500, False),  # noqa: E501
)
# fmt: on
# A demonstration announced, then cancelled by its organisers: not counted (stats: cancelled).
# fmt: off
CANCELLED_DEMONSTRATION = ("2024-07-14", 14, "Rassemblement annulé / Geannuleerde samenkomst", "flagey", 500, False)  # noqa: E501
# fmt: on

# Incidents by category: how many in the year, title (FR / NL), and the places they happen at.
INCIDENT_KINDS: dict[str, tuple[int, str]] = {
    "fire": (46, "Incendie / Brand"),
    "traffic": (38, "Accident de la route / Verkeersongeval"),
    "public_order": (28, "Troubles à l'ordre public / Verstoring openbare orde"),
    "transport_disruption": (22, "Interruption STIB / Onderbreking MIVB"),
    "utility_outage": (18, "Panne (électricité, eau, gaz) / Panne (stroom, water, gas)"),
    "suspicious_package": (20, "Colis suspect / Verdacht pakket"),
    "flooding_storm": (16, "Inondation, tempête / Wateroverlast, storm"),
    "health": (12, "Malaises, urgence sanitaire / Onwel, gezondheidsnood"),
    "threat": (9, "Menace / Dreiging"),
    "shooting_stabbing": (11, "Fusillade, agression au couteau / Schietpartij, steekpartij"),
    "hazmat": (6, "Fuite de produit dangereux / Lek gevaarlijke stof"),
    "explosion": (2, "Explosion / Ontploffing"),
    "other": (7, "Autre / Andere"),
}
# Where incidents happen, weighted (city centre, stations, dense municipalities).
INCIDENT_PLACES: tuple[tuple[str, int], ...] = (
    *((k, 4) for k in ("grand-place", "bourse", "gare-centrale", "gare-du-midi", "gare-du-nord")),
    *((k, 3) for k in ("clemenceau", "cureghem", "molenbeek", "liedts", "parvis-saint-gilles")),
    *(
        (k, 2)
        for k in (
            "flagey",
            "fernand-cocq",
            "tour-taxis",
            "poelaert",
            "peterbos",
            "josaphat",
            "meiser",
            "saint-josse",
            "jourdan",
            "jette",
            "forest-national",
            "wiels",
            "karreveld",
        )
    ),
    *(
        (k, 1)
        for k in (
            "atomium",
            "heysel",
            "laeken",
            "reyers",
            "lotto-park",
            "erasme",
            "joseph-marien",
            "uz-brussel",
            "ganshoren",
            "berchem",
            "evere",
            "la-chasse",
            "woluwe-shopping",
            "stockel",
            "nonciature",
            "rouge-cloitre",
            "saint-job",
            "globe",
            "keym",
            "barriere",
            "etangs-ixelles",
        )
    ),
)
# Seasons: more storms in winter and autumn, more public-order incidents in summer.
SEASON: dict[str, tuple[int, ...]] = {
    "flooding_storm": (3, 3, 2, 1, 1, 2, 3, 2, 1, 2, 3, 3),
    "public_order": (1, 1, 1, 1, 2, 2, 3, 2, 1, 1, 1, 2),
    "health": (1, 1, 1, 1, 1, 2, 3, 3, 1, 1, 1, 1),
}
SEVERITIES = (("minor", 40), ("moderate", 36), ("severe", 19), ("extreme", 5))
PARTNERS = ("pz-5339", "pz-5340", "pz-5341", "pz-5342", "pz-5343", "pz-5344")
ZONE_OF = {
    "21004": "pz-5339", "21009": "pz-5339",
    "21003": "pz-5340", "21008": "pz-5340", "21010": "pz-5340", "21011": "pz-5340",
    "21012": "pz-5340",
    "21001": "pz-5341", "21007": "pz-5341", "21013": "pz-5341",
    "21002": "pz-5342", "21016": "pz-5342", "21017": "pz-5342",
    "21005": "pz-5343", "21018": "pz-5343", "21019": "pz-5343",
    "21006": "pz-5344", "21014": "pz-5344", "21015": "pz-5344",
}  # fmt: skip
ALL_PARTNERS = (
    *PARTNERS,
    "siamu-dbdmh",
    "stib-mivb",
    "bruxelles-mobilite",
    "bruxelles-environnement",
    "vivaqua",
    "sibelga",
    "nccn",
)
ALARM_TESTS = ("2024-03-06T10:00", "2024-06-05T10:00", "2024-09-04T10:00", "2024-12-04T10:00")


def at(local: str) -> datetime:
    """A wall-clock time in Brussels (ISO 8601 without offset)."""
    return datetime.fromisoformat(local).replace(tzinfo=BRUSSELS)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def place_point(key: str, rng: random.Random | None = None) -> dict[str, Any]:
    """A place's point; with `rng`, moved by up to about 25 m (incidents of one place do not
    stack), which keeps every place used for incidents in its municipality (tests check it)."""
    _, lon, lat, _ = PLACES[key]
    if rng is not None:
        lat += rng.uniform(-0.00022, 0.00022)
        lon += rng.uniform(-0.00022, 0.00022) / math.cos(math.radians(lat))
    return point(round(lon, 6), round(lat, 6))


class _Year:
    """The year being loaded: its loader, random numbers and the activations still to open."""

    def __init__(self, load: Loader, published: Published) -> None:
        self.load = load
        self.rng = random.Random(SEED)
        self.published = published
        # (key, level, opened, closed, subject entity, subject id, title, exercise)
        self.activations: list[tuple[str, str, datetime, datetime, str, Any, str, bool]] = []

    def want_activation(
        self,
        key: str,
        level: str,
        opened: datetime,
        closed: datetime,
        subject: tuple[str, Any],
        title: str,
        exercise: bool = False,
    ) -> None:
        self.activations.append((key, level, opened, closed, *subject, title, exercise))

    async def event(self, e: Event, exercise_kind: bool = False) -> None:
        starts, ends = at(e.starts), at(e.ends)
        name = PLACES[e.place][0]
        props = {
            "title": e.title,
            "kind": e.kind,
            "status": "confirmed",
            "starts_at": iso(starts),
            "ends_at": iso(ends),
            "venue": name,
            "expected_attendance": e.attendance or None,
            "risk_level": e.risk,
            "visibility": "shared",
        }
        then = ({"status": "ongoing"}, {"status": "ended"})
        item = Item(f"event:{e.key}", props, place_point(e.place), then)
        written = await self.load.put(planned_event.SPEC, item)
        if e.activation is not None:
            self.want_activation(
                f"gcc:{e.key}",
                e.activation,
                starts - timedelta(hours=2),
                ends + timedelta(hours=1),
                ("planned_event", written.id),
                e.title,
            )
        if exercise_kind:  # the exercise's own activation is played: flagged, not counted
            self.want_activation(
                f"gcc:{e.key}",
                "coordination",
                starts,
                ends,
                ("planned_event", written.id),
                e.title,
                exercise=True,
            )

    async def demonstration(
        self, row: tuple[str, int, str, str, int, bool], cancelled: bool = False
    ) -> None:
        day, hour, subject, place, participants, activated = row
        starts = at(f"{day}T{hour:02d}:00")
        ends = starts + timedelta(hours=3 if participants < 5_000 else 5)
        title = f"{subject} — {PLACES[place][0]}"
        props = {
            "title": title,
            "organiser": "Exemple / Voorbeeld",
            "expected_participants": participants,
            "starts_at": iso(starts),
            "ends_at": iso(ends),
            "authorisation": "requested",
            "visibility": "shared",
        }
        then: tuple[dict[str, Any], ...] = (
            ({"status": "cancelled"},)
            if cancelled
            else ({"authorisation": "authorised"}, {"status": "ongoing"}, {"status": "ended"})
        )
        key = f"demonstration:{day}:{place}"
        written = await self.load.put(
            demonstration.SPEC, Item(key, props, place_point(place), then)
        )
        if activated and not cancelled:
            level = "coordination" if participants >= 10_000 else "pre_alert"
            self.want_activation(
                f"gcc:{key}",
                level,
                starts - timedelta(hours=1),
                ends + timedelta(hours=1),
                ("demonstration", written.id),
                title,
            )

    def incident_rows(self, year: int) -> list[dict[str, Any]]:
        """The year's incidents, drawn from the seed: category, severity, time and place."""
        rng = self.rng
        places = [k for k, _ in INCIDENT_PLACES]
        weights = [w for _, w in INCIDENT_PLACES]
        rows = []
        for category, (count, title) in INCIDENT_KINDS.items():
            season = SEASON.get(category, (1,) * 12)
            for n in range(count):
                month = rng.choices(range(1, 13), weights=season)[0]
                day = rng.randint(1, 28)
                occurred = datetime(
                    year, month, day, rng.randint(0, 23), rng.choice((0, 15, 30, 45)),
                    tzinfo=BRUSSELS,
                )  # fmt: skip
                severity = rng.choices(
                    [s for s, _ in SEVERITIES], weights=[w for _, w in SEVERITIES]
                )[0]
                if category in ("explosion", "shooting_stabbing") and severity == "minor":
                    severity = "severe"
                place = rng.choices(places, weights=weights)[0]
                rows.append(
                    {
                        "key": f"incident:{category}:{n:03d}",
                        "category": category,
                        "title": f"{title} — {PLACES[place][0]}",
                        "severity": severity,
                        "occurred": occurred,
                        "closed": occurred + timedelta(minutes=rng.randint(45, 600)),
                        "place": place,
                        "geometry": place_point(place, rng),
                    }
                )
        rows.sort(key=lambda r: (r["occurred"], r["key"]))
        return rows

    async def incident(self, row: dict[str, Any]) -> objects.Written:
        first, *later = STATUS_PATH["closed"]
        changes: list[dict[str, Any]] = [{"status": s} for s in later]
        changes[-1]["closed_at"] = iso(row["closed"])
        props = {
            "title": row["title"],
            "category": row["category"],
            "severity": row["severity"],
            "status": first,
            "place": PLACES[row["place"]][0],
            "occurred_at": iso(row["occurred"]),
            "reported_at": iso(row["occurred"] + timedelta(minutes=4)),
            "visibility": "internal",
        }
        item = Item(row["key"], props, row["geometry"], tuple(changes))
        return await self.load.put(incident.SPEC, item)

    async def open_activations(self, scenario_activations: int) -> None:
        """Open exactly as many activations as published (less the scenario's), SITCEN
        coordinating the published number: the smallest (monitoring, pre-alert) first."""
        counted = [a for a in self.activations if not a[7]]
        wanted = self.published.activations - scenario_activations
        if len(counted) != wanted:
            raise RuntimeError(f"demo year: {len(counted)} activations planned, {wanted} wanted")
        rank = {"monitoring": 0, "pre_alert": 1, "coordination": 2, "crisis_cell": 3}
        by_size = sorted(counted, key=lambda a: (rank[a[1]], a[2]))
        sitcen = {a[0] for a in by_size[: self.published.activations_coordinated_by_sitcen]}
        for key, level, opened, closed, entity, subject_id, title, exercise in self.activations:
            coordinator = "sitcen" if key in sitcen else "high_official"
            if coordinator == "sitcen" and level in ("coordination", "crisis_cell"):
                level = "pre_alert"
            elif coordinator == "high_official" and level in ("monitoring", "pre_alert"):
                level = "coordination"
            props = {
                "title": f"GCC — {title}"[:200],
                "level": level,
                "coordinator": coordinator,
                "opened_at": iso(opened),
                "exercise": exercise,
                "visibility": "internal",
            }
            then = ({"status": "closed", "closed_at": iso(closed)},)
            await self.load.put(
                activation.SPEC,
                Item(key, props, None, then),
                subject_entity=entity,
                subject_id=subject_id,
            )


async def _alert(
    session: AsyncSession,
    rng: random.Random,
    row: dict[str, Any],
    incident_id: Any,
    ref: str,
) -> None:
    """An alert to the partners concerned by an incident, with their acknowledgements: most
    within minutes, some late, a few never (flagged as they were at the time)."""
    sent = row["occurred"] + timedelta(minutes=rng.randint(6, 25))
    if await session.scalar(
        select(Alert.id).where(Alert.created_by == ACTOR, Alert.sent_at == sent).limit(1)
    ):
        return
    zone = ZONE_OF[PLACES[row["place"]][3]]
    partners = sorted({zone, "siamu-dbdmh", *rng.sample(ALL_PARTNERS[6:], 2)})
    headline = row["title"]
    draft = AlertDraft(
        status=CapStatus.Actual,
        msg_type=MsgType.Alert,
        severity=CapSeverity.of(row["severity"]),
        urgency=Urgency.Immediate,
        certainty=Certainty.Observed,
        categories=[CATEGORY.get(row["category"], CATEGORY["public_order"])],
        event=headline[:200],
        texts={
            lang: {"headline": headline, "description": PLACES[row["place"]][0]}
            for lang in ("fr", "nl", "en")
        },
        area_desc=PLACES[row["place"]][0],
        area=row["geometry"],
        origin=Origin.manual,
        entity="incident",
        entity_id=incident_id,
        entity_ref=ref,
    )
    settings = get_alert_settings()
    made = await service.create_alert(
        session, draft, partners, actor=ACTOR, settings=settings, now=sent, channels={}
    )
    await _answers(session, rng, made.alert.id, partners, sent, answer_rate=0.9)


async def _answers(
    session: AsyncSession,
    rng: random.Random,
    alert_id: Any,
    partners: list[str] | tuple[str, ...],
    sent: datetime,
    answer_rate: float,
) -> None:
    for org in partners:
        if rng.random() < answer_rate:
            seconds = min(3_600.0, rng.lognormvariate(math.log(240), 0.8))
            await service.acknowledge(
                session,
                alert_id,
                org,
                by=f"SPOC {org}",
                via=rng.choice((AckVia.email_link, AckVia.rest, AckVia.on_behalf)),
                now=sent + timedelta(seconds=round(seconds)),
            )
    # Those that never answered were flagged to the watch when their deadline passed.
    await session.execute(
        update(Recipient)
        .where(Recipient.alert_id == alert_id, Recipient.acknowledged_at.is_(None))
        .values(flagged_at=Recipient.deadline_at)
    )


async def _alarm_tests(session: AsyncSession, year: int) -> None:
    for n, local in enumerate(ALARM_TESTS, start=1):
        name = f"Test d'alarme trimestriel / Driemaandelijkse alarmtest T{n} {year}"
        if await session.scalar(select(Campaign.id).where(Campaign.name == name)):
            continue
        sent = at(local)
        campaign = await campaigns.start(
            session, name, list(ALL_PARTNERS), actor=ACTOR, settings=get_alert_settings(),
            now=sent,
        )  # fmt: skip
        # A test of years ago is a record: nothing of it may be sent now (it is committed with
        # the deliveries removed, so the delivery worker never sees them).
        await session.execute(delete(Delivery).where(Delivery.alert_id == campaign.alert_id))
        rng = random.Random(f"{SEED}:{name}")
        await _answers(session, rng, campaign.alert_id, ALL_PARTNERS, sent, answer_rate=0.85)


async def _scenario_activations(session: AsyncSession, year: int) -> int:
    start, end = datetime(year, 1, 1, tzinfo=BRUSSELS), datetime(year + 1, 1, 1, tzinfo=BRUSSELS)
    model = activation.Activation
    count = await session.scalar(
        select(func.count())
        .select_from(model)
        .where(model.source == "demo", model.opened_at >= start, model.opened_at < end)
    )
    return int(count or 0)


async def load_year(sessions: async_sessionmaker[AsyncSession], year: int) -> dict[str, int]:
    """Load the demo scenario and the rest of `year`; answer what this run created."""
    published = PUBLISHED.get(year)
    if published is None:
        known = ", ".join(str(y) for y in PUBLISHED)
        raise ValueError(f"no published figures for {year}: the demo year exists for {known}")
    async with sessions() as session:
        municipalities = await session.scalar(
            select(func.count())
            .select_from(ReferenceArea)
            .where(ReferenceArea.layer == "municipality")
        )
    if not municipalities:
        raise ValueError(
            "the municipalities are not loaded: run `sitcen reference load "
            "../shared/data/brussels` first, so that each object lands in its municipality"
        )
    created = await load_scenario(sessions)
    async with transaction(sessions) as session:
        load = Loader(session, SOURCE)
        y = _Year(load, published)
        for e in EVENTS:
            await y.event(e)
        for n, (starts, ends) in enumerate(SUMMITS, start=1):
            summit = Event(
                f"european-council-{n}", "summit",
                "Conseil européen / Europese Raad", starts, ends, "europa", 5_000, "very_high",
                "coordination",
            )  # fmt: skip
            await y.event(summit)
        for n, (day, place) in enumerate(DELEGATIONS, start=1):
            visit = Event(
                f"delegation-{n}", "delegation_visit",
                "Visite d'une délégation étrangère (exemple) / Bezoek van een buitenlandse "
                "delegatie (voorbeeld)",
                f"{day}T09:00", f"{day}T18:00", place, 300, "high",
                "coordination" if n % 2 else "monitoring",
            )  # fmt: skip
            await y.event(visit)
        for key, title, starts, ends, place in FTX:
            ftx = Event(key, "exercise", title, starts, ends, place, 400, "medium", None)
            await y.event(ftx, exercise_kind=True)
        for demo in DEMONSTRATIONS:
            await y.demonstration(demo)
        await y.demonstration(CANCELLED_DEMONSTRATION, cancelled=True)

        rows = y.incident_rows(year)
        scenario_activations = await _scenario_activations(session, year)
        still = (
            published.activations
            - scenario_activations
            - len([a for a in y.activations if not a[7]])
        )
        # The gravest incidents led to an activation, as many as the year still needs.
        gravest = sorted(
            rows,
            key=lambda r: (
                -["minor", "moderate", "severe", "extreme"].index(r["severity"]),
                r["key"],
            ),
        )[: max(still, 0)]
        chosen = {r["key"] for r in gravest}
        for row in rows:
            written = await y.incident(row)
            if row["key"] in chosen:
                y.want_activation(
                    f"gcc:{row['key']}",
                    "coordination" if row["severity"] == "extreme" else "pre_alert",
                    row["occurred"] + timedelta(minutes=20),
                    row["closed"] + timedelta(minutes=30),
                    ("incident", written.id),
                    row["title"],
                )
            # Each incident draws from its own numbers: what one finds already there (a second
            # run) changes nothing of what the next one draws.
            rng = random.Random(f"{SEED}:{row['key']}")
            if row["severity"] in ("severe", "extreme") or rng.random() < 0.1:
                await _alert(session, rng, row, written.id, written.feature["properties"]["ref"])
        await y.open_activations(scenario_activations)
        await _alarm_tests(session, year)
    for kind, n in load.created.items():
        created[kind] = created.get(kind, 0) + n
    return created
