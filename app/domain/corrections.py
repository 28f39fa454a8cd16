"""Corrections of the records nobody rewrites (decisions, logbook entries): a correction is a new
record naming the one it corrects (`corrects_id`). The corrected record stays as it was written;
its `corrected_by` lists the records that correct it, so that a reader of either sees both."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.base import OperationalObject
from app.domain.enums import Visibility
from app.errors import validation_problem


async def check_correction(
    session: AsyncSession,
    model: type[OperationalObject],
    values: dict[str, Any],
    *,
    same: tuple[str, ...],
) -> None:
    """Refuse a correction of a record of another activation (or logbook: the `same` columns),
    and give the correction the original's audience: whoever read the original must read what
    corrects it, or would go on acting on what was corrected."""
    corrects = values.get("corrects_id")
    if corrects is None:
        return
    original = await session.get(model, corrects)
    if original is None:  # the link check answers first; this keeps the contract local
        raise validation_problem(
            [{"loc": ["body", "properties", "corrects_id"], "msg": f"no record with id {corrects}"}]
        )
    for name in same:
        if getattr(original, name) != values.get(name):
            raise validation_problem(
                [
                    {
                        "loc": ["body", "properties", "corrects_id"],
                        "msg": f"corrects {original.ref}, whose {name} is not this one's: "
                        "a correction stays beside what it corrects",
                    }
                ]
            )
    audience = list(values.get("shared_with") or [])
    values["shared_with"] = audience + [o for o in original.shared_with if o not in audience]
    if original.visibility == Visibility.shared:
        values["visibility"] = Visibility.shared


async def mark_corrected(
    session: AsyncSession, model: type[OperationalObject], values: dict[str, Any]
) -> None:
    """List the stored correction on the record it corrects. Only this derived list changes:
    neither the original's content nor its version (nor a decision's hash) moves."""
    if values.get("corrects_id") is None:
        return
    table = model.__table__  # type: ignore[attr-defined]
    await session.execute(
        update(table)
        .where(table.c.id == values["corrects_id"])
        .values(corrected_by=func.array_append(table.c.corrected_by, values["id"]))
    )
