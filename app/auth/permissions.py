"""The one permission table: role × action, asked by every router and by the WebSocket stream.

Actions are `<entity>:<verb>` for the operational objects (read, create, update, close, delete)
and a few named ones. `close` is a status change that ends an object (closing an incident,
cancelling an event, lifting a zone, closing a GCC activation).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from app.auth.principal import Principal
from app.auth.roles import Role
from app.domain.base import OperationalObject
from app.domain.enums import Entity
from app.domain.visibility import Scope

PICTURE = tuple(e.value for e in Entity)
SHAREABLE = ("incident", "planned_event", "demonstration", "zone", "activation")


def _on(entities: tuple[str, ...], *verbs: str) -> frozenset[str]:
    return frozenset(f"{e}:{v}" for e in entities for v in verbs)


_READ = _on(PICTURE, "read") | {"changes:read", "reference:read", "organisations:read"}
_WRITE = _on(PICTURE, "create", "update", "close")
# Alerting (issue 7). SITCEN staff follow every alert and may record an acknowledgement made by
# phone; a partner reads and acknowledges its own alerts and keeps its own SPOCs, channels and
# subscriptions (the routers keep a partner to its organisation).
_ALERTS = frozenset({"alerts:read", "alerts:ack", "partners:read", "subscriptions:manage"})
_ALERTS_STAFF = _ALERTS | {"campaigns:read"}
_ALERTS_LEAD = _ALERTS_STAFF | {"alerts:send", "partners:manage", "campaigns:manage"}

PERMISSIONS: dict[Role, frozenset[str]] = {
    # The watch composes and sends alerts to partners (issue 7).
    Role.operator: _READ | _WRITE | _ALERTS_STAFF | {"alerts:send"},
    Role.coordinator: _READ | _WRITE | _ALERTS_LEAD,
    Role.official: _READ | _WRITE | _ALERTS_STAFF | {"alerts:send"},
    # A partner SPOC reads what is shared with it and its organisation; it writes nothing here.
    Role.partner: _on(SHAREABLE, "read")
    | {"changes:read", "reference:read"}
    | _ALERTS
    | {"partners:manage"},
    # A dispatch system ingests incidents and reads back its own; closing is SITCEN's call.
    Role.dispatch: _on(("incident",), "read", "create", "update") | {"reference:read"},
    Role.admin: _READ
    | _WRITE
    | _on(PICTURE, "delete")
    | _ALERTS_LEAD
    | {
        "alerts:send",
        "users:manage",
        "apikeys:manage",
        "organisations:manage",
        "audit:read",
        "reference:manage",
    },
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
