"""The national threat level set by OCAM/CUTA (the Coordination Unit for Threat Analysis): the
general level, 1 to 4, and the levels it sets apart for a sector (the Jewish community, the EU
institutions, the police…) or a named target. Each setting is an operational object written
once (who recorded it, when, why, on what OCAM/CUTA reference), through the one write path: it
is in the change feed, live on /ws, and the level that stood at any instant is read back from
the feed as time travel reads any object (`standing(at=…)`), for replays and SITREPs.

A setting is public national information: always `visibility: shared`, every role reads it.
A sector's or target's own level is lifted by a setting without a level (that sector then
follows the general level again); the general level is never lifted, only changed.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import SmallInteger, String, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain import objects, timetravel
from app.domain.base import OperationalObject
from app.domain.enums import Entity, ThreatLevel, ThreatSector, Visibility
from app.domain.objects import ListFilter
from app.domain.schema import CommonProps
from app.domain.spec import EntitySpec, Problems
from app.domain.visibility import Scope

Reason = Annotated[str, Field(min_length=1, max_length=2000)]
Reference = Annotated[str, Field(min_length=1, max_length=200)]
Target = Annotated[str, Field(min_length=1, max_length=200)]
LEVELS = tuple(int(level.value) for level in ThreatLevel)
GENERAL = "general"
# Settings read per page when folding the history into what stands: they come a few a year.
_PAGE = 1000


class ThreatLevelSetting(OperationalObject, Base):
    __tablename__ = "threat_levels"

    level: Mapped[int | None] = mapped_column(SmallInteger)  # None: a sector's level lifted
    sector: Mapped[str | None] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    source_reference: Mapped[str] = mapped_column(String(200))


class ThreatLevelCreate(CommonProps):
    """A setting as the write path stores it (the API's body is app.threat's `ThreatLevelIn`);
    the title and the audience are derived."""

    title: str = ""
    level: int | None = None
    sector: ThreatSector | None = None
    target: Target | None = None
    reason: Reason
    source_reference: Reference


def normal_target(target: str | None) -> str | None:
    """A target as stored: inner runs of white space made one space; empty is none."""
    if target is None:
        return None
    return re.sub(r"\s+", " ", target).strip() or None


def key_of(sector: str | None, target: str | None) -> str:
    """What a setting grades: `general`, `sector:<key>`, `target:<name>`, or both; a target is
    the same whatever its case."""
    parts = []
    if sector:
        parts.append(f"sector:{sector}")
    if target:
        parts.append(f"target:{target.casefold()}")
    return "/".join(parts) or GENERAL


def plain_title(values: dict[str, Any]) -> str:
    """A title for a setting recorded without one (app.threat gives one in FR and NL)."""
    level = values.get("level")
    return f"OCAM/CUTA {level if level is not None else '-'} — " + key_of(
        values.get("sector"), values.get("target")
    )


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    # Public national information: every partner reads it, whatever the caller asked.
    values["visibility"] = Visibility.shared
    values["shared_with"] = []
    values["target"] = normal_target(values.get("target"))
    values["title"] = (values.get("title") or plain_title(values))[:200]


def _check(values: dict[str, Any]) -> Problems:
    level = values.get("level")
    if level is not None and level not in LEVELS:
        return [("level", "a threat level is 1, 2, 3 or 4")]
    if level is None and key_of(values.get("sector"), values.get("target")) == GENERAL:
        return [("level", "the general level is changed, never lifted: give a level 1 to 4")]
    return []


async def _verify(
    session: AsyncSession, values: dict[str, Any], changed: dict[str, Any]
) -> Problems:
    if values.get("level") is not None:
        return []
    key = key_of(values.get("sector"), values.get("target"))
    if key not in (await standing(session, None, Scope())).by_key:
        return [("level", f"no level of its own stands for {key} to lift")]
    return []


SPEC = EntitySpec(
    entity=Entity.threat_level,
    model=ThreatLevelSetting,
    path="threat_levels",
    ref_prefix="THR",
    create_schema=ThreatLevelCreate,
    update_schema=ThreatLevelCreate,  # never used: no PATCH for what is never changed
    fields=("level", "sector", "target", "reason", "source_reference"),
    geometry_types=None,
    geometry_required=False,
    status_field=None,
    kind_field="sector",
    kind_enum=ThreatSector,
    window=("created_at", None),
    text_fields=("target", "reason", "source_reference"),
    check=_check,
    verify=_verify,
    derive=_derive,
    append_only=True,
    # Set through POST /api/threat-level (app.threat), which alerts every partner with it.
    own_routes=frozenset({"create"}),
)


# ---- reading ----------------------------------------------------------------------------------


def record_of(feature: dict[str, Any]) -> dict[str, Any]:
    """A setting as the API shows it: the level, what it grades, why, on what reference, who
    recorded it and when."""
    p = feature["properties"]
    return {
        "id": feature["id"],
        "ref": p["ref"],
        "key": key_of(p.get("sector"), p.get("target")),
        "level": p.get("level"),
        "sector": p.get("sector"),
        "target": p.get("target"),
        "reason": p.get("reason"),
        "source_reference": p.get("source_reference"),
        "set_at": p["created_at"],
        "set_by": p["created_by"],
    }


@dataclass(frozen=True)
class Standing:
    """What stood at an instant: the general level and each sector's or target's own level,
    each the latest setting of its key (a lifted one is not listed)."""

    general: dict[str, Any] | None
    specific: list[dict[str, Any]]

    @property
    def by_key(self) -> dict[str, dict[str, Any]]:
        return {r["key"]: r for r in self.specific}

    def as_json(self) -> dict[str, Any]:
        return {"general": self.general, "specific": self.specific}


def fold(newest_first: list[dict[str, Any]]) -> Standing:
    """The settings in force, from every setting, newest first."""
    latest: dict[str, dict[str, Any]] = {}
    for record in newest_first:
        latest.setdefault(record["key"], record)
    general = latest.pop(GENERAL, None)
    specific = sorted(
        (r for r in latest.values() if r["level"] is not None),
        key=lambda r: (r["sector"] or "~", (r["target"] or "").casefold()),
    )
    return Standing(general, specific)


async def settings(
    session: AsyncSession, at: datetime | None, scope: Scope
) -> list[dict[str, Any]]:
    """Every setting (not an exercise's) as it stood at `at` (None: now), newest first; before
    the feed's horizon, 410 (app.domain.timetravel)."""
    f = ListFilter(exercise=False)
    found: list[dict[str, Any]] = []
    after = None
    while True:
        if at is None:
            page, more = await objects.page(
                session, SPEC, f, scope.clause(SPEC.model), _PAGE, after
            )
        else:
            page, more = await timetravel.page_at(session, SPEC, at, f, scope, _PAGE, after)
        found += [record_of(x) for x in page]
        if not more:
            # Newest first by when each was set: ids are ordered by the millisecond only.
            return sorted(found, key=lambda r: (r["set_at"], r["ref"]), reverse=True)
        after = uuid.UUID(page[-1]["id"])


async def standing(session: AsyncSession, at: datetime | None, scope: Scope) -> Standing:
    return fold(await settings(session, at, scope))
