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
    position = "position"
    task = "task"
    decision = "decision"
    plan = "plan"
    checklist = "checklist"
    fiche = "fiche"
    document = "document"
    sitrep = "sitrep"
    police_measure = "police_measure"
    hotspot_note = "hotspot_note"
    threat_level = "threat_level"
    conflict = "conflict"


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
    exercise = "exercise"  # a field training exercise (FTX)
    table_top = "table_top"  # a table-top exercise: the cell around a table, no field play
    alarm_test = "alarm_test"  # a periodic test of partners' alerting and call-out


# The kinds the exercise calendar shows (app.domain.calendar).
EXERCISE_KINDS = (EventKind.exercise, EventKind.table_top, EventKind.alarm_test)


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


class ConflictStatus(StrEnum):
    """A recorded conflict (app.domain.conflict): found, agreed by the planning desk, or gone."""

    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"


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


class Discipline(StrEnum):
    """The five disciplines of Belgian emergency planning (Royal Decree of 22 May 2019)."""

    d1 = "d1"  # rescue: the fire services
    d2 = "d2"  # medical, sanitary and psychosocial aid
    d3 = "d3"  # police
    d4 = "d4"  # logistic support: civil protection
    d5 = "d5"  # information to the population


class PositionRole(StrEnum):
    """The seats of a crisis cell. A discipline's representative holds its discipline's seat."""

    high_official = "high_official"
    coordinator = "coordinator"
    duty_officer = "duty_officer"  # SITCEN's duty officer
    d1 = "d1"
    d2 = "d2"
    d3 = "d3"
    d4 = "d4"
    d5 = "d5"
    partner_liaison = "partner_liaison"
    log_keeper = "log_keeper"
    communication_officer = "communication_officer"
    other = "other"


class Presence(StrEnum):
    """Where the holder of a position is: expected, paged, acknowledged the page, in the room,
    taking part remotely, or declined."""

    expected = "expected"
    paged = "paged"
    acknowledged = "acknowledged"
    present = "present"
    remote = "remote"
    declined = "declined"


class TaskPriority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class TaskStatus(StrEnum):
    """Where a task of the crisis cell stands; a blocked task says why."""

    open = "open"
    in_progress = "in_progress"
    done = "done"
    blocked = "blocked"
    cancelled = "cancelled"


class PlanKind(StrEnum):
    """Emergency and intervention plans (Royal Decree of 22 May 2019): the general plan
    (PGUI/ANIP), a special plan for a site, event or risk (PPUI/BNIP), a discipline's
    monodisciplinary intervention plan (PMI/MIP) and a site's internal plan (PIU/INP)."""

    general = "general"
    special = "special"
    intervention = "intervention"
    internal = "internal"


class PlanStatus(StrEnum):
    draft = "draft"
    in_force = "in_force"
    withdrawn = "withdrawn"


class ChecklistStatus(StrEnum):
    """A checklist is open until every item is done or marked not applicable."""

    open = "open"
    completed = "completed"


class ItemState(StrEnum):
    """An item of a checklist: still to do, done, or not applicable (with a reason)."""

    open = "open"
    done = "done"
    not_applicable = "not_applicable"


class FicheStatus(StrEnum):
    """An operational fiche is a draft until approved; changed after approval, a draft again."""

    draft = "draft"
    approved = "approved"


class SitrepStatus(StrEnum):
    """A SITREP is a draft until approved; approved, it is frozen: never changed again."""

    draft = "draft"
    approved = "approved"


class MeasureKind(StrEnum):
    """Police measures taken on a place (New Municipal Law, NLC/NGW): a mayor's police order
    (art. 133-135), a municipal police regulation, closing an establishment (art. 134quater),
    a place ban (art. 134sexies), camera surveillance (camera law of 21 March 2007), a ban on
    alcohol sales or gatherings, or another measure."""

    mayor_order = "mayor_order"
    police_regulation = "police_regulation"
    establishment_closure = "establishment_closure"
    place_ban = "place_ban"
    camera_surveillance = "camera_surveillance"
    alcohol_ban = "alcohol_ban"
    gathering_ban = "gathering_ban"
    other = "other"


class MeasureStatus(StrEnum):
    """A police measure stands until its end (its last extension's) unless revoked first."""

    active = "active"
    revoked = "revoked"


class MeasureValidity(StrEnum):
    """Where a police measure stands at a given time (derived, never stored)."""

    upcoming = "upcoming"
    in_force = "in_force"
    expiring = "expiring"  # in force, ending within the warning period
    expired = "expired"
    revoked = "revoked"


class Trend(StrEnum):
    """How a hotspot's incident count moved from the previous period to this one."""

    up = "up"
    down = "down"
    stable = "stable"


class HandoverStatus(StrEnum):
    """Where a shift handover stands (app.reports.handover): written, handed over (frozen),
    acknowledged by the incoming team (once)."""

    draft = "draft"
    handed_over = "handed_over"
    acknowledged = "acknowledged"


class ThreatLevel(StrEnum):
    """The threat levels of OCAM/CUTA (Royal Decree of 28 November 2006, art. 11): 1 low (the
    target is not threatened), 2 medium (a threat is unlikely), 3 serious (a threat is possible
    and likely), 4 very serious (a threat is serious and imminent). The API speaks them as the
    numbers 1 to 4; this names them for the labels."""

    low = "1"
    medium = "2"
    serious = "3"
    very_serious = "4"


class ThreatSector(StrEnum):
    """Targets or sectors OCAM/CUTA may grade apart from the general level."""

    jewish_community = "jewish_community"
    eu_institutions = "eu_institutions"
    international_institutions = "international_institutions"
    diplomatic = "diplomatic"
    police = "police"
    military = "military"
    public_transport = "public_transport"
    places_of_worship = "places_of_worship"


# External feeds (app.feeds): here, below every layer that names them in words (app.vocabulary).
class FeedTrust(StrEnum):
    """How far the watch trusts a source: carried in the `source` of every object it makes
    (`feed:<trust>:<name>`), so that a reader of the picture sees it on the object."""

    verified = "verified"
    unverified = "unverified"


class FeedOutside(StrEnum):
    """What becomes of a message whose area lies outside the Region (or outside the source's
    municipalities, when it names some)."""

    ignore = "ignore"
    keep = "keep"
