"""Enumerations of the operational picture, shared by database, API schema and UI label keys."""

from __future__ import annotations

from enum import StrEnum


class Entity(StrEnum):
    incident = "incident"
    planned_event = "planned_event"
    demonstration = "demonstration"
    zone = "zone"
    activation = "activation"
    logbook_entry = "logbook_entry"


class ChangeOp(StrEnum):
    created = "created"
    updated = "updated"
    deleted = "deleted"


class IncidentCategory(StrEnum):
    public_order = "public_order"
    fire = "fire"
    explosion = "explosion"
    shooting_stabbing = "shooting_stabbing"
    traffic = "traffic"
    hazmat = "hazmat"
    flooding_storm = "flooding_storm"
    utility_outage = "utility_outage"
    suspicious_package = "suspicious_package"
    threat = "threat"
    health = "health"
    transport_disruption = "transport_disruption"
    other = "other"


class Severity(StrEnum):
    """CAP 1.2 severity scale (without Unknown: an operator always grades)."""

    minor = "minor"
    moderate = "moderate"
    severe = "severe"
    extreme = "extreme"

    @property
    def rank(self) -> int:
        return SEVERITY_ORDER.index(self)


SEVERITY_ORDER = [Severity.minor, Severity.moderate, Severity.severe, Severity.extreme]


class IncidentStatus(StrEnum):
    reported = "reported"
    confirmed = "confirmed"
    ongoing = "ongoing"
    resolved = "resolved"
    closed = "closed"
    false_alarm = "false_alarm"


class Visibility(StrEnum):
    internal = "internal"
    shared = "shared"


class EventKind(StrEnum):
    mass_event = "mass_event"
    festival = "festival"
    sports_match = "sports_match"
    official_visit = "official_visit"
    papal_visit = "papal_visit"
    summit = "summit"
    delegation_visit = "delegation_visit"
    election = "election"
    commemoration = "commemoration"
    exercise = "exercise"


class RiskLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    very_high = "very_high"


class EventStatus(StrEnum):
    planned = "planned"
    confirmed = "confirmed"
    ongoing = "ongoing"
    ended = "ended"
    cancelled = "cancelled"


class Authorisation(StrEnum):
    requested = "requested"
    authorised = "authorised"
    refused = "refused"
    tolerated = "tolerated"


class ZoneKind(StrEnum):
    security_perimeter = "security_perimeter"
    red_zone = "red_zone"
    drone_ban = "drone_ban"
    traffic_restriction = "traffic_restriction"
    route = "route"
    assembly_point = "assembly_point"
    staging_area = "staging_area"
    first_aid_post = "first_aid_post"
    hotspot = "hotspot"


class ZoneStatus(StrEnum):
    active = "active"
    lifted = "lifted"


class ActivationLevel(StrEnum):
    """GCC activation levels, from watching a situation to a full crisis cell."""

    monitoring = "monitoring"
    pre_alert = "pre_alert"
    coordination = "coordination"
    crisis_cell = "crisis_cell"


class Coordinator(StrEnum):
    sitcen = "sitcen"
    high_official = "high_official"


class ActivationStatus(StrEnum):
    open = "open"
    closed = "closed"


class LogbookKind(StrEnum):
    note = "note"
    action = "action"
    decision = "decision"
    communication = "communication"
    sitrep = "sitrep"
    handover = "handover"


class Language(StrEnum):
    """The languages the service speaks: the Region's two, and English."""

    fr = "fr"
    nl = "nl"
    en = "en"
