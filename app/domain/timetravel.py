"""The picture as it stood at a past instant, rebuilt from the change feed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, cast, false, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import changes
from app.domain.objects import ListFilter, like_pattern
from app.domain.spec import EntitySpec
from app.domain.visibility import Scope
from app.errors import pruned


async def require_kept(session: AsyncSession, at: datetime) -> None:
    """The picture before the feed's horizon cannot be rebuilt: the changes it needs were
    pruned (app.domain.retention). Said, rather than answered wrong."""
    since = (await changes.kept(session)).since
    if since is not None and at < since:
        raise pruned(
            f"the picture at {at.isoformat()} can no longer be rebuilt: the change feed is "
            f"kept from {since.isoformat()} on (SITCEN_FEED_RETENTION_DAYS); ask for a time at "
            "or after it",
            oldest_at=since.isoformat(),
        )


def _clauses(spec: EntitySpec, s: Any, f: ListFilter, scope: Scope) -> list[ColumnElement[bool]]:
    props = s.c.feature["properties"]

    def text_of(name: str) -> Any:
        return props[name].astext

    def time_of(name: str) -> Any:
        return cast(text_of(name), TIMESTAMP(timezone=True))

    clauses: list[ColumnElement[bool]] = [s.c.op != "deleted"]
    visible = scope.json_clause(props)
    if visible is not None:
        clauses.append(visible)
    if f.bbox is not None:
        geom = func.ST_SetSRID(func.ST_GeomFromGeoJSON(s.c.feature["geometry"].astext), 4326)
        clauses.append(s.c.feature["geometry"].astext.isnot(None))
        clauses.append(func.ST_Intersects(geom, func.ST_MakeEnvelope(*f.bbox, 4326)))
    if spec.window and (f.start or f.end):
        start, end = spec.window[0], spec.window[1] or spec.window[0]
        if f.end is not None:
            clauses.append(or_(text_of(start).is_(None), time_of(start) <= f.end))
        if f.start is not None:
            clauses.append(or_(text_of(end).is_(None), time_of(end) >= f.start))
    if f.status and spec.status_field:
        clauses.append(text_of(spec.status_field).in_(f.status))
    if f.kind and spec.kind_field:
        clauses.append(text_of(spec.kind_field).in_(f.kind))
    if f.severity:
        has = "severity" in spec.fields
        clauses.append(text_of("severity").in_(f.severity) if has else false())
    for key, codes in (("municipalities", f.municipality), ("police_zones", f.police_zone)):
        if codes:
            clauses.append(
                or_(*(props[key].contains(type_coerce([{"code": c}], JSONB)) for c in codes))
            )
    if f.exercise is not None:
        clauses.append(props["exercise"] == type_coerce(f.exercise, JSONB))
    links = (("subject_id", f.subject), ("parent_id", f.subject), ("activation_id", f.activation))
    for name, wanted in links:
        if wanted is not None and name in spec.fields:
            clauses.append(text_of(name) == str(wanted))
    if f.activation is not None and "activation_id" not in spec.fields:
        clauses.append(false())
    if f.zone is not None:
        if "zone_ids" in spec.fields:
            clauses.append(props["zone_ids"].contains(type_coerce([str(f.zone)], JSONB)))
        else:
            clauses.append(false())
    if f.q:
        pattern = like_pattern(f.q)
        names = ["title", "description", "ref", *spec.text_fields]
        clauses.append(or_(*(text_of(n).ilike(pattern, escape="\\") for n in names)))
    return clauses


async def page_at(
    session: AsyncSession,
    spec: EntitySpec,
    at: datetime,
    f: ListFilter,
    scope: Scope,
    limit: int,
    after: uuid.UUID | None,
) -> tuple[list[dict[str, Any]], bool]:
    await require_kept(session, at)
    s = changes.states_at(spec.entity, at)
    clauses = _clauses(spec, s, f, scope)
    if after is not None:
        clauses.append(s.c.entity_id < after)
    query = (
        select(s.c.feature).where(and_(*clauses)).order_by(s.c.entity_id.desc()).limit(limit + 1)
    )
    rows = [r for (r,) in (await session.execute(query)).all()]
    return rows[:limit], len(rows) > limit


async def feature_at(
    session: AsyncSession,
    spec: EntitySpec,
    object_id: uuid.UUID,
    at: datetime,
    scope: Scope,
) -> dict[str, Any] | None:
    await require_kept(session, at)
    state = await changes.state_at(session, spec.entity, object_id, at)
    if state is None or state[0] == "deleted":
        return None
    feature = state[1]
    if not scope.sees(feature["properties"]):
        return None
    return feature
