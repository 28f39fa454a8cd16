"""Feed sources kept by administrators (every write audited), and their health as plain data
for the API, the dashboard and the metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, Field, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import audit
from app.audit import AuditKind
from app.domain.base import uuid7
from app.domain.enums import FeedOutside as Outside
from app.domain.enums import FeedTrust as Trust
from app.domain.enums import ZoneKind
from app.domain.schema import Input, Title
from app.errors import already_exists, not_found, validation_problem
from app.feeds.models import FeedSource
from app.geo.reference import ReferenceArea

Name = Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9\-]*$")]
Nis = Annotated[str, Field(pattern=r"^\d{5}$")]
# From every ten seconds (a neighbour's live feed) to once a day.
PollSeconds = Annotated[int, Field(ge=10, le=86_400)]
Url = Annotated[AnyHttpUrl, Field(max_length=2000)]
# What a CAP message can make (app.alerts.lifecycle.ingest).
Makes = Literal["incident", "zone"]
# Fields an administrator sets; the rest of the row is the poller's.
CONFIG = (
    "title",
    "url",
    "poll_seconds",
    "entity",
    "zone_kind",
    "municipalities",
    "outside",
    "trust",
    "enabled",
)


class _Kinds(Input):
    @model_validator(mode="after")
    def _zone_kind_for_zones(self) -> Any:
        entity = getattr(self, "entity", None)
        if getattr(self, "zone_kind", None) is not None and entity not in (None, "zone"):
            raise ValueError("zone_kind is for sources that make zones (entity: zone)")
        return self


class FeedSourceIn(_Kinds):
    name: Name = Field(description="Its name in URLs and in its objects' `source`")
    title: Title
    url: Url = Field(description="The Atom or RSS feed (or a single CAP document)")
    poll_seconds: PollSeconds = 300
    entity: Makes = "incident"
    zone_kind: ZoneKind | None = None
    municipalities: Annotated[list[Nis], Field(max_length=19)] = Field(
        default=[], description="NIS codes of the municipalities it concerns; none: the Region"
    )
    outside: Outside = Field(
        default=Outside.ignore,
        description="A message whose area lies outside them: ignored, or kept",
    )
    trust: Trust = Trust.unverified
    enabled: bool = True


class FeedSourcePatch(_Kinds):
    title: Title | None = None
    url: Url | None = None
    poll_seconds: PollSeconds | None = None
    entity: Makes | None = None
    zone_kind: ZoneKind | None = None
    municipalities: Annotated[list[Nis], Field(max_length=19)] | None = None
    outside: Outside | None = None
    trust: Trust | None = None
    enabled: bool | None = None

    @field_validator(*(name for name in CONFIG if name != "zone_kind"), mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Left out, a field is left as it is; sent as null, it would be emptied: only zone_kind
        # may be.
        if value is None:
            raise ValueError("may not be null (leave it out to keep it)")
        return value


def public(row: FeedSource) -> dict[str, Any]:
    return {
        "name": row.name,
        "title": row.title,
        "url": row.url,
        "poll_seconds": row.poll_seconds,
        "entity": row.entity,
        "zone_kind": row.zone_kind,
        "municipalities": list(row.municipalities),
        "outside": row.outside,
        "trust": row.trust,
        "enabled": row.enabled,
        "source": f"feed:{row.trust}:{row.name}",
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
        "updated_at": row.updated_at.isoformat(),
        "updated_by": row.updated_by,
        "health": row.health(),
    }


async def _check_municipalities(session: AsyncSession, codes: list[str], field: str) -> None:
    known = set(
        await session.scalars(
            select(ReferenceArea.code).where(
                ReferenceArea.layer == "municipality", ReferenceArea.code.in_(codes)
            )
        )
    )
    errors = [
        {"loc": ["body", field, i], "msg": f"{code}: no municipality of the Region has this code"}
        for i, code in enumerate(codes)
        if code not in known
    ]
    if errors:
        raise validation_problem(errors)


async def sources(session: AsyncSession) -> list[FeedSource]:
    return list((await session.scalars(select(FeedSource).order_by(FeedSource.name))).all())


async def get(session: AsyncSession, name: str, *, lock: bool = False) -> FeedSource:
    query = select(FeedSource).where(FeedSource.name == name)
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise not_found("feed source", name)
    return row


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, AnyHttpUrl) else v for k, v in values.items()}


async def create(
    session: AsyncSession, body: FeedSourceIn, actor: str, now: datetime
) -> FeedSource:
    await _check_municipalities(session, body.municipalities, "municipalities")
    if await session.scalar(select(FeedSource.id).where(FeedSource.name == body.name)):
        raise already_exists(f"a feed source named {body.name!r} exists already")
    values = _plain(body.model_dump(mode="python"))
    row = FeedSource(
        id=uuid7(),
        **values,
        created_at=now,
        created_by=actor,
        updated_at=now,
        updated_by=actor,
        seen=[],
        failures=0,
        messages_ingested=0,
        messages_ignored=0,
        messages_rejected=0,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        AuditKind.feed_source_created,
        subject=f"feed:{body.name}",
        actor=actor,
        detail={k: values[k] for k in CONFIG},
    )
    return row


async def change(
    session: AsyncSession, name: str, patch: FeedSourcePatch, actor: str, now: datetime
) -> FeedSource:
    row = await get(session, name, lock=True)
    values = _plain(patch.model_dump(mode="python", exclude_unset=True))
    if values.get("municipalities"):
        await _check_municipalities(session, values["municipalities"], "municipalities")
    entity = values.get("entity", row.entity)
    if entity != "zone" and values.get("zone_kind", row.zone_kind) is not None:
        if "entity" in values and "zone_kind" not in values:
            values["zone_kind"] = None  # no longer a zone source
        else:
            raise validation_problem(
                [{"loc": ["body", "zone_kind"], "msg": "zone_kind is for sources that make zones"}]
            )
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        return row
    for key, value in changed.items():
        setattr(row, key, value)
    if "url" in changed:
        # Another document: its validators and entries are not this one's.
        row.etag = row.last_modified = None
        row.seen = []
    if "enabled" in changed or "poll_seconds" in changed:
        row.next_poll_at = None  # due at once
    row.updated_at = now
    row.updated_by = actor
    await session.flush()
    await audit.record(
        session,
        AuditKind.feed_source_changed,
        subject=f"feed:{name}",
        actor=actor,
        detail=changed,
    )
    return row


async def delete(session: AsyncSession, name: str, actor: str) -> None:
    row = await get(session, name, lock=True)
    await session.delete(row)
    await audit.record(
        session,
        AuditKind.feed_source_deleted,
        subject=f"feed:{name}",
        actor=actor,
        detail={"url": row.url, "messages_ingested": row.messages_ingested},
    )


async def poll_now(session: AsyncSession, name: str) -> FeedSource:
    """Due at once, whatever its back-off (an operator who knows the source is back)."""
    row = await get(session, name, lock=True)
    row.next_poll_at = await session.scalar(select(func.now()))
    await session.flush()
    return row


async def feed_health(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    """Each source's health as plain data, for the metrics (whatever renders them): name,
    trust, enabled, up (its last poll succeeded), consecutive failures, messages by outcome,
    last HTTP status, and the times of its last success and error (epoch seconds)."""
    async with sessions() as session:
        rows = await sources(session)

    def epoch(value: datetime | None) -> float | None:
        return value.timestamp() if value else None

    return [
        {
            "name": r.name,
            "trust": r.trust,
            "enabled": r.enabled,
            "up": r.last_polled_at is not None and r.failures == 0,
            "failures": r.failures,
            "messages": {
                "ingested": r.messages_ingested,
                "ignored": r.messages_ignored,
                "rejected": r.messages_rejected,
            },
            "last_status": r.last_status,
            "last_success": epoch(r.last_success_at),
            "last_error": epoch(r.last_error_at),
        }
        for r in rows
    ]
