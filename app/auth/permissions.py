"""The one permission table: role × action, asked by every router and by the WebSocket stream.

Actions are `<entity>:<verb>` for the operational objects (read, create, update, close, delete)
and a few named ones. `close` is a status change that ends an object (closing an incident,
cancelling an event, lifting a zone, closing a GCC activation). Decisions and logbook entries
are written once (app.domain.spec `append_only`): nobody, admin included, updates, closes or
deletes them.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from app.auth.principal import Principal
from app.auth.roles import Role
from app.domain.base import OperationalObject
from app.domain.enums import Entity
from app.domain.registry import SPECS
from app.domain.visibility import Scope

PICTURE = tuple(e.value for e in Entity)
SHAREABLE = (
    *("incident", "planned_event", "demonstration", "zone", "activation"),
    *("position", "task", "plan", "fiche", "document"),
    "decision",  # only a decision shared with the partner: they are internal by default
    "sitrep",  # a SITREP shared with the partner, and in it only what the partner sees
    *("police_measure", "hotspot_note"),
    # The national threat level is public (OCAM/CUTA): every setting is shared with every
    # partner (app.domain.threat_level), and a dispatch system reads it too.
    "threat_level",
    "conflict",  # a conflict's record, to a partner that sees both of its objects
)
APPEND_ONLY = tuple(s.entity.value for s in SPECS if s.append_only)
MUTABLE = tuple(e for e in PICTURE if e not in APPEND_ONLY)
# Found, not made: a conflict's record is written by the conflict watcher and acknowledged
# (`conflicts:acknowledge`); nobody creates, closes or deletes one by hand, only edits its note.
FOUND = ("conflict",)


def _on(entities: tuple[str, ...], *verbs: str) -> frozenset[str]:
    return frozenset(f"{e}:{v}" for e in entities for v in verbs)


_READ = _on(PICTURE, "read") | {"changes:read", "reference:read", "organisations:read"}
# `task:status`: the owner's progress report on a task (POST /api/tasks/{id}/status); a
# partner's SPOC reports on the tasks of its organisation only.
_WRITE = (
    _on(tuple(e for e in PICTURE if e not in FOUND), "create")
    | _on(MUTABLE, "update")
    | _on(tuple(e for e in MUTABLE if e not in FOUND), "close")
    | {"task:status"}
)
# Who records a decision is not who takes it: the High Official (or the coordinator) decides, in
# the cell; the decision names them (position and person), and the one who records it is
# whoever keeps the log at that moment: a SITCEN operator, the coordinator or the official.
# Anyone of SITCEN checks the chain of decisions; the coordinator and the official, who read
# every discipline's logbook, promote an entry into the multidisciplinary one.
_RECORDS_WATCH = frozenset({"decision:verify"})
_RECORDS_LEAD = _RECORDS_WATCH | {"logbook_entry:promote"}
# Alerting (issue 7). SITCEN staff follow every alert and may record an acknowledgement made by
# phone; a partner reads and acknowledges its own alerts and keeps its own SPOCs, channels and
# subscriptions (the routers keep a partner to its organisation).
_ALERTS = frozenset({"alerts:read", "alerts:ack", "partners:read", "subscriptions:manage"})
# A partner's users (its SPOCs, its members of a crisis cell) take its alerts on their own
# devices by Web Push (issue 21, app.alerts.lifecycle.devices). SITCEN's operators, coordinators
# and officials hold seats of a crisis cell: their devices take the pages of those seats
# (app.cell.paging.push_pages), never an alert. An administrator keeps the platform, holds no
# seat, and has no device to register.
_PUSH = frozenset({"push:subscribe"})
_ALERTS_STAFF = _ALERTS | {"campaigns:read"}
_ALERTS_LEAD = _ALERTS_STAFF | {"alerts:send", "partners:manage", "campaigns:manage"}
# The crisis cell (issue 16). The watch opens an activation and pages its cell; moving it from
# phase to phase is the coordinator's and the High Official's call; a seat's holder, or SITCEN
# for them, answers a page. The phases and templates are kept by administrators.
_CELL_LISTS = frozenset({"phases:read", "activation_templates:read"})
_ANSWER = frozenset({"position:acknowledge", "position:presence"})
_CELL_WATCH = _CELL_LISTS | _ANSWER | {"activation:open", "activation:page"}
_CELL_LEAD = _CELL_WATCH | {"activation:phase"}
# The contact directory (issue 16): the watch keeps it and reads the overdue report; a partner
# keeps and confirms its own organisation's entries (the router keeps it to them); the
# coordinator sets how often an organisation confirms; the High Official reads.
_DIRECTORY = frozenset({"directory:read", "directory:manage"})
_DIRECTORY_STAFF = _DIRECTORY | {"directory:report"}
_DIRECTORY_READ = frozenset({"directory:read", "directory:report"})
# Standard procedures (issue 16): SITCEN's staff read the templates to start one by hand; admins
# keep them. The operational fiche is approved by whoever leads the cell.
_PROCEDURES = frozenset({"procedures:read"})
_APPROVE = frozenset({"fiche:approve", "sitrep:approve"})
# Reports (issue 17): SITREPs are drafted by the watch, approved by whoever leads the cell (as
# the fiche), and sent to partners by those who send alerts.
_REPORTS = frozenset({"sitrep:send"})
# The annual figures (issue 17): the table the crisis centre publishes, for those who answer
# for it (coordinators, the High Official) and administrators; not the watch, not partners.
_STATS = frozenset({"stats:read"})
# Hotspot fiches and their comparison (issue 17): SITCEN's and the Public Order service's; a
# partner reads them over the hotspots, measures, tasks and notes shared with it.
_HOTSPOTS = frozenset({"hotspots:read"})
# The planning desk (issue 18): conflicts of planned events, demonstrations and zones in space
# and time, and the exercise calendar. A partner reads those between objects it sees; SITCEN
# acknowledges them.
_PLANNING_READ = frozenset({"conflicts:read", "calendar:read"})
_PLANNING = _PLANNING_READ | {"conflicts:acknowledge"}
# The shift handover (issue 17): the watch's own, between SITCEN's teams; never a partner's.
_HANDOVER = frozenset({"handovers:read", "handovers:write", "handovers:acknowledge"})

# Exercises (issue 18): the exercise controllers (coordinators, administrators) keep the
# scenarios and run them; those who evaluate (they and the High Official) read the after-action
# report. Operators and partners are the players: a scenario or a run's panel would tell them
# what is coming, so they have neither.
_EXERCISE_CONTROL = frozenset({"exercises:control", "exercises:report"})
_EXERCISE_REPORT = frozenset({"exercises:report"})
# External CAP feeds (issue 20): administrators keep the sources; SITCEN's staff read their
# health (a silent weather feed is the watch's concern). Not partners: which feeds the centre
# watches, and how far it trusts them, is internal.
_FEEDS_READ = frozenset({"feeds:read"})
# Reports from the field (issue 21): whoever is at the scene, a partner's SPOC included, sends
# an incident for the watch to confirm (a partner's is seen by its organisation and SITCEN).
_FIELD = frozenset({"field_report:create"})
PERMISSIONS: dict[Role, frozenset[str]] = {
    # The watch composes and sends alerts to partners (issue 7).
    Role.operator: _READ
    | _WRITE
    | _ALERTS_STAFF
    | {"alerts:send"}
    | _REPORTS
    | _CELL_WATCH
    | _PUSH
    | _RECORDS_WATCH
    | _DIRECTORY_STAFF
    | _PROCEDURES
    | _HOTSPOTS
    | _HANDOVER
    | _PLANNING
    | _FEEDS_READ
    | _FIELD,
    Role.coordinator: _READ
    | _WRITE
    | _ALERTS_LEAD
    | _CELL_LEAD
    | _PUSH
    | _RECORDS_LEAD
    | _DIRECTORY_STAFF
    | _PROCEDURES
    | _APPROVE
    | _REPORTS
    | _STATS
    | _HOTSPOTS
    | _HANDOVER
    | _PLANNING
    | _EXERCISE_CONTROL
    | _FEEDS_READ
    | _FIELD
    | {"directory:schedule"},
    Role.official: _READ
    | _WRITE
    | _ALERTS_STAFF
    | {"alerts:send"}
    | _CELL_LEAD
    | _PUSH
    | _RECORDS_LEAD
    | _DIRECTORY_READ
    | _PROCEDURES
    | _APPROVE
    | _REPORTS
    | _STATS
    | _HOTSPOTS
    | _HANDOVER
    | _PLANNING
    | _EXERCISE_REPORT
    | _FEEDS_READ
    | _FIELD,
    # A partner SPOC reads what is shared with it and its organisation; of the picture, it
    # writes only the status of its organisation's tasks and the answer to its seats' pages.
    Role.partner: _on(SHAREABLE, "read")
    | {"task:status", "changes:read", "reference:read"}
    | _ALERTS
    | _PUSH
    | _DIRECTORY
    | {"partners:manage"}
    | _ANSWER
    | _HOTSPOTS
    | _PLANNING_READ
    | _FIELD,
    # A dispatch system ingests incidents and reads back its own; closing is SITCEN's call.
    Role.dispatch: _on(("incident",), "read", "create", "update")
    | {"reference:read", "threat_level:read"},
    # The administrator keeps the platform: it may delete a wrongly created object of the
    # picture, never a record of the cell, and records no decision (that is the cell's).
    Role.admin: _READ
    | (_WRITE - {"decision:create"})
    | _on(tuple(e for e in MUTABLE if e not in FOUND), "delete")
    | _RECORDS_WATCH
    | _ALERTS_LEAD
    | _CELL_LEAD
    | _DIRECTORY_STAFF
    | _PROCEDURES
    | _REPORTS
    | _STATS
    | _HOTSPOTS
    | _PLANNING
    | _EXERCISE_CONTROL
    | {
        "handovers:read",
        "procedures:manage",
        "directory:schedule",
        "phases:manage",
        "activation_templates:manage",
        "alerts:send",
        "users:manage",
        "apikeys:manage",
        "organisations:manage",
        "audit:read",
        "reference:manage",
        "feeds:read",
        "feeds:manage",
        # The export of what is held about a person (app.privacy), for the DPO.
        "privacy:subject_access",
    },
}

# Bulk import (app/exchange): a file of objects, each written through the create (or update)
# the role already has; whoever creates a kind imports it. A document, created by uploading
# its bytes, is not imported.
_IMPORTABLE = tuple(s.entity.value for s in SPECS if "create" not in s.own_routes)
for _role, _actions in PERMISSIONS.items():
    PERMISSIONS[_role] = _actions | {
        f"{e}:import" for e in _IMPORTABLE if f"{e}:create" in _actions
    }


def allowed(role: Role, action: str) -> bool:
    return action in PERMISSIONS.get(role, frozenset())


def may(principal: Principal, action: str) -> bool:
    """Whether this principal may do `action`: its role's row of the table, less every action
    that is not a read for a read-only API key."""
    if principal.read_only and not action.endswith(":read"):
        return False
    return allowed(principal.role, action)


def all_actions() -> frozenset[str]:
    return frozenset().union(*PERMISSIONS.values())


def scope_of(principal: Principal) -> Scope:
    """What this principal sees of the objects its role may read (app.domain.visibility)."""
    readable = frozenset(e for e in PICTURE if may(principal, f"{e}:read"))
    entities = None if readable == frozenset(PICTURE) else readable
    if principal.role == Role.partner:
        return Scope(organisation=principal.organisation, partner=True, entities=entities)
    if principal.role == Role.dispatch:
        return Scope(created_by=principal.actor, entities=entities)
    return Scope(entities=entities)


def read_scope(principal: Principal, model: type[OperationalObject]) -> ColumnElement[bool] | None:
    return scope_of(principal).clause(model)


def as_markdown() -> str:
    """The table as docs/security.md shows it (a test keeps the two the same)."""
    roles = list(Role)
    lines = [
        "| action | " + " | ".join(r.value for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for action in sorted(all_actions()):
        marks = " | ".join("✓" if action in PERMISSIONS[r] else "" for r in roles)
        lines.append(f"| `{action}` | {marks} |")
    return "\n".join(lines)


def as_table() -> dict[str, list[str]]:
    return {role.value: sorted(actions) for role, actions in PERMISSIONS.items()}
