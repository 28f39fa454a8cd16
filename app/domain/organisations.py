"""Organisations as the rest of the service names them: by code, in share lists, alert
recipients, SPOCs, subscriptions and partner accounts. Their table's model belongs to the auth
layer (app.partners.models), which the domain does not import; the one check that a code
exists is here, below every layer that asks it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import validation_problem

_ORGANISATIONS = table("organisations", column("code"))


async def require_known(
    session: AsyncSession, codes: Iterable[str], loc: list[str | int]
) -> list[str]:
    """The codes, once each and sorted, if every one names an organisation; else 422 naming
    `loc` and the first unknown code (and nothing of the codes that exist)."""
    wanted = sorted(set(codes))
    if not wanted:
        return wanted
    code = _ORGANISATIONS.c.code
    known = set((await session.scalars(select(code).where(code.in_(wanted)))).all())
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise validation_problem([{"loc": loc, "msg": f"unknown organisation {unknown[0]!r}"}])
    return wanted
