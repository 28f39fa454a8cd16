"""Which partner organisation a caller may act for: a partner only for its own; SITCEN staff
for any. Another partner's things answer 404, as objects not shared with a partner do."""

from __future__ import annotations

from app.auth.principal import Principal
from app.auth.roles import Role
from app.errors import not_found, validation_problem


def is_partner(principal: Principal) -> bool:
    return principal.role == Role.partner


def within(principal: Principal, organisation: str, what: str = "organisation") -> str:
    if is_partner(principal) and principal.organisation != organisation:
        raise not_found(what, detail=f"no {what} {organisation!r}")
    return organisation


def acting_for(principal: Principal, requested: str | None, loc: str = "organisation") -> str:
    """The organisation a write is for: the partner's own, or the one SITCEN staff name."""
    if is_partner(principal):
        assert principal.organisation is not None  # a partner always has one (app.auth.tokens)
        if requested is not None:
            within(principal, requested)
        return principal.organisation
    if requested is None:
        raise validation_problem([{"loc": ["body", loc], "msg": "name the partner organisation"}])
    return requested
