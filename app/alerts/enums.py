"""Enumerations of alerting: CAP 1.2's exact spellings, and delivery states."""

from __future__ import annotations

from enum import StrEnum

from app.domain.enums import Language, Severity


class CapStatus(StrEnum):
    Actual = "Actual"
    Exercise = "Exercise"
    Test = "Test"


class MsgType(StrEnum):
    Alert = "Alert"
    Update = "Update"
    Cancel = "Cancel"


class CapSeverity(StrEnum):
    Extreme = "Extreme"
    Severe = "Severe"
    Moderate = "Moderate"
    Minor = "Minor"

    @classmethod
    def of(cls, severity: Severity | str) -> CapSeverity:
        """The picture's severity (minor..extreme) in CAP's spelling."""
        return cls(str(severity).capitalize())

    @property
    def picture(self) -> Severity:
        return Severity(self.value.lower())


class Urgency(StrEnum):
    Immediate = "Immediate"
    Expected = "Expected"
    Future = "Future"
    Past = "Past"


class Certainty(StrEnum):
    Observed = "Observed"
    Likely = "Likely"
    Possible = "Possible"
    Unlikely = "Unlikely"


class CapCategory(StrEnum):
    Geo = "Geo"
    Met = "Met"
    Safety = "Safety"
    Security = "Security"
    Rescue = "Rescue"
    Fire = "Fire"
    Health = "Health"
    Env = "Env"
    Transport = "Transport"
    Infra = "Infra"
    CBRNE = "CBRNE"
    Other = "Other"


# CAP <language> of each text (RFC 3066 tags).
CAP_LANGUAGE = {Language.fr: "fr-BE", Language.nl: "nl-BE", Language.en: "en"}
# Which text a reader gets when theirs is missing: the Region's two languages first.
FALLBACK = (Language.fr, Language.nl, Language.en)


class Origin(StrEnum):
    """Why an alert exists."""

    rule = "rule"  # a change matched a subscription
    manual = "manual"  # composed by SITCEN
    campaign = "campaign"  # an alarm test
    overdue_task = "overdue_task"  # a crisis-cell task past its due time (app.cell.overdue)
    handover = "handover"  # a shift handover not acknowledged in time (app.reports)
    threat_level = "threat_level"  # OCAM/CUTA set a threat level (app.threat)
    exercise = "exercise"  # an exercise scenario's message to its players (app.exercises)


class DeliveryStatus(StrEnum):
    pending = "pending"  # due at next_attempt_at
    sending = "sending"  # claimed by a worker until claimed_until
    delivered = "delivered"
    dead = "dead"  # gave up after the last attempt: shown as dead-letter


class AckVia(StrEnum):
    rest = "rest"
    websocket = "websocket"
    email_link = "email_link"
    push = "push"  # the "Acknowledge" action of a Web Push notification (its signed token)
    on_behalf = "on_behalf"  # recorded by SITCEN, e.g. after a phone call
