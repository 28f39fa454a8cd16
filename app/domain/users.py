"""Users as the rest of the service names them: by username (who holds a crisis cell's seat).
Their table's model belongs to the auth layer (app.auth.models), which the domain does not
import; the one check that a username names a SITCEN user who may hold a seat is here."""

from __future__ import annotations

from sqlalchemy import Boolean, String, column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import validation_problem

_USERS = table(
    "users", column("username", String), column("disabled", Boolean), column("role", String)
)
# A partner's SPOC holds a seat through its organisation (holder_organisation): so the seat is
# shared with that organisation, and its page goes to the organisation's channels.
_HOLDS_THROUGH_ORGANISATION = "partner"


async def _role_of(session: AsyncSession, username: str) -> str | None:
    """The role of the user who may log in under this name, if there is one."""
    return await session.scalar(
        select(_USERS.c.role).where(_USERS.c.username == username, _USERS.c.disabled.is_(False))
    )


async def is_known(session: AsyncSession, username: str) -> bool:
    """Whether the username names a SITCEN user who may hold a seat or own a task."""
    role = await _role_of(session, username)
    return role is not None and role != _HOLDS_THROUGH_ORGANISATION


async def require_known(session: AsyncSession, username: str, loc: list[str | int]) -> str:
    """The username, if it names a SITCEN user who may log in; else 422 naming `loc`."""
    role = await _role_of(session, username)
    if role is None:
        raise validation_problem([{"loc": loc, "msg": f"unknown user {username!r}"}])
    if role == _HOLDS_THROUGH_ORGANISATION:
        raise validation_problem(
            [
                {
                    "loc": loc,
                    "msg": f"{username!r} is a partner's SPOC: a partner holds a seat through "
                    "its organisation (holder_organisation)",
                }
            ]
        )
    return username
