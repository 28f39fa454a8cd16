"""FR/NL/EN words of automatic alerts: object kinds, categories, severities, statuses."""

from __future__ import annotations

Labels = dict[str, tuple[str, str, str]]  # value -> (fr, nl, en)

ENTITY: Labels = {
    "incident": ("Incident", "Incident", "Incident"),
    "planned_event": ("Événement planifié", "Gepland evenement", "Planned event"),
    "demonstration": ("Manifestation", "Betoging", "Demonstration"),
    "zone": ("Zone", "Zone", "Zone"),
    "activation": ("Activation du CCR", "Activering GCC", "GCC activation"),
    "logbook_entry": ("Main courante", "Logboek", "Logbook"),
}

KIND: Labels = {
    "public_order": ("Ordre public", "Openbare orde", "Public order"),
    "fire": ("Incendie", "Brand", "Fire"),
    "explosion": ("Explosion", "Ontploffing", "Explosion"),
    "shooting_stabbing": ("Fusillade / agression", "Schietpartij / steekpartij", "Shooting"),
    "traffic": ("Accident de circulation", "Verkeersongeval", "Traffic accident"),
    "hazmat": ("Matières dangereuses", "Gevaarlijke stoffen", "Hazardous materials"),
    "flooding_storm": ("Inondation / tempête", "Overstroming / storm", "Flooding / storm"),
    "utility_outage": ("Panne d'utilité publique", "Nutsonderbreking", "Utility outage"),
    "suspicious_package": ("Colis suspect", "Verdacht pakket", "Suspicious package"),
    "threat": ("Menace", "Dreiging", "Threat"),
    "health": ("Santé", "Gezondheid", "Health"),
    "transport_disruption": (
        "Perturbation des transports",
        "Verstoring openbaar vervoer",
        "Transport disruption",
    ),
    "other": ("Autre", "Andere", "Other"),
    "security_perimeter": ("Périmètre de sécurité", "Veiligheidsperimeter", "Security perimeter"),
    "red_zone": ("Zone rouge", "Rode zone", "Red zone"),
    "drone_ban": ("Interdiction de drones", "Droneverbod", "Drone ban"),
    "traffic_restriction": (
        "Restriction de circulation",
        "Verkeersbeperking",
        "Traffic restriction",
    ),
    "route": ("Itinéraire", "Route", "Route"),
    "assembly_point": ("Point de rassemblement", "Verzamelpunt", "Assembly point"),
    "staging_area": ("Zone de regroupement", "Opstelplaats", "Staging area"),
    "first_aid_post": ("Poste de secours", "Hulppost", "First-aid post"),
    "hotspot": ("Hotspot", "Hotspot", "Hotspot"),
}

SEVERITY: Labels = {
    "minor": ("mineur", "gering", "minor"),
    "moderate": ("modéré", "matig", "moderate"),
    "severe": ("grave", "ernstig", "severe"),
    "extreme": ("extrême", "extreem", "extreme"),
}

STATUS: Labels = {
    "reported": ("signalé", "gemeld", "reported"),
    "confirmed": ("confirmé", "bevestigd", "confirmed"),
    "ongoing": ("en cours", "lopend", "ongoing"),
    "resolved": ("résolu", "opgelost", "resolved"),
    "closed": ("clôturé", "afgesloten", "closed"),
    "false_alarm": ("fausse alerte", "vals alarm", "false alarm"),
    "active": ("active", "actief", "active"),
    "lifted": ("levée", "opgeheven", "lifted"),
    "planned": ("planifié", "gepland", "planned"),
    "ended": ("terminé", "beëindigd", "ended"),
    "cancelled": ("annulé", "geannuleerd", "cancelled"),
    "deleted": ("supprimé", "verwijderd", "deleted"),
}

PREFIX: Labels = {
    "Alert": ("", "", ""),
    "Update": ("Mise à jour : ", "Update: ", "Update: "),
    "Cancel": ("Fin d'alerte : ", "Einde alarm: ", "Cancelled: "),
}

ACK: Labels = {
    "link": ("Accuser réception", "Ontvangst bevestigen", "Acknowledge"),
    "deadline": ("à confirmer avant", "te bevestigen vóór", "to acknowledge before"),
}

INDEX = {"fr": 0, "nl": 1, "en": 2}


def label(table: Labels, value: str | None, language: str) -> str:
    if value is None:
        return ""
    words = table.get(value)
    return words[INDEX[language]] if words else value.replace("_", " ")
