"""The one permission table: role × action, asked by every router and by the WebSocket stream."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from app.auth.principal import Principal
from app.domain.base import OperationalObject
from app.domain.enums import Entity, Role

PICTURE = tuple(e.value for e in Entity)


def _on(entities: tuple[str, ...], *verbs: str) -> frozenset[str]:
    return frozenset(f"{e}:{v}" for e in entities for v in verbs)


_READ_PICTURE = _on(PICTURE, "read") | {"changes:read", "reference:read"}
_WRITE_PICTURE = _on(PICTURE, "create", "update")

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.operator: _READ_PICTURE | _WRITE_PICTURE,
    Role.coordinator: _READ_PICTURE | _WRITE_PICTURE | {"alerts:send"},
    Role.official: _READ_PICTURE | _WRITE_PICTURE,
    # Partners read only what is shared with them (see read_scope); writes come with alerting.
    Role.partner: _on(("incident", "planned_event", "demonstration", "zone", "activation"), "read")
    | {"changes:read", "reference:read"},
    # Dispatch systems ingest incidents and read back their own.
    Role.dispatch: _on(("incident",), "read", "create", "update") | {"reference:read"},
    Role.admin: _READ_PICTURE
    | _WRITE_PICTURE
    | _on(PICTURE, "delete")
    | {"alerts:send", "users:manage", "apikeys:manage", "audit:read", "reference:manage"},
}


def allowed(role: Role, action: str) -> bool:
    return action in PERMISSIONS.get(role, frozenset())


def scope_conditions(principal: Principal) -> dict[str, str]:
    """Property values an object must have for this principal to see it, beyond the role check:
    partners see what is shared, dispatch clients what they created. Applied to rows, to the
    change feed and to time travel alike."""
    if principal.role == Role.partner:
        return {"visibility": "shared"}
    if principal.role == Role.dispatch:
        return {"created_by": principal.actor}
    return {}


def read_scope(principal: Principal, model: type[OperationalObject]) -> ColumnElement[bool] | None:
    conditions = scope_conditions(principal)
    if not conditions:
        return None
    return and_(*(getattr(model, name) == value for name, value in conditions.items()))


def as_table() -> dict[str, list[str]]:
    return {role.value: sorted(actions) for role, actions in PERMISSIONS.items()}
