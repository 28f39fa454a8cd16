"""The one permission table: role × action, asked by every router and by the WebSocket stream.

Actions are `<entity>:<verb>` for the operational objects (read, create, update, close, delete)
and a few named ones. `close` is a status change that ends an object (closing an incident,
cancelling an event, lifting a zone, closing a GCC activation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, literal, or_

from app.auth.principal import Principal
from app.domain.base import OperationalObject
from app.domain.enums import Entity, Role

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


@dataclass(frozen=True)
class Scope:
    """Which objects a principal sees beyond the role check, asked of rows (SQL), of stored
    Features (time travel, SQL over JSON) and of change records (Python) alike."""

    created_by: str | None = None  # dispatch: only what it created
    organisation: str | None = None  # partner: shared with all partners, or with its organisation
    partner: bool = False
    # Entity types the role may read at all; None: every type. Change records carry every type,
    # so the feed and the stream need this beside the per-object test.
    entities: frozenset[str] | None = None

    @property
    def everything(self) -> bool:
        return self.created_by is None and not self.partner and self.entities is None

    def sees(self, props: Mapping[str, Any]) -> bool:
        if self.entities is not None and props.get("entity") not in self.entities:
            return False
        if self.created_by is not None and props.get("created_by") != self.created_by:
            return False
        if self.partner:
            return props.get("visibility") == "shared" or (
                self.organisation is not None
                and self.organisation in (props.get("shared_with") or [])
            )
        return True

    def clause(self, model: type[OperationalObject]) -> ColumnElement[bool] | None:
        parts: list[ColumnElement[bool]] = []
        if self.created_by is not None:
            parts.append(model.created_by == self.created_by)
        if self.partner:
            shared = model.visibility == "shared"
            if self.organisation is not None:
                shared = or_(shared, model.shared_with.any(self.organisation))  # type: ignore[arg-type]
            parts.append(shared)
        return and_(*parts) if parts else None

    def json_clause(self, props: Any) -> ColumnElement[bool] | None:
        """The same condition over a JSONB `properties` expression (stored Features)."""
        parts: list[ColumnElement[bool]] = []
        if self.created_by is not None:
            parts.append(props["created_by"].astext == self.created_by)
        if self.partner:
            shared = props["visibility"].astext == "shared"
            if self.organisation is not None:
                shared = or_(shared, props["shared_with"].has_key(literal(self.organisation)))
            parts.append(shared)
        return and_(*parts) if parts else None


def scope_of(principal: Principal) -> Scope:
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
