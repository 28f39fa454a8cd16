"""Reading the change feed for the realtime layer: each record serialised once, with the facts
that filters look at. Shared by the listener (live) and by each client's replay."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app.domain.changes import (
    FeedChange,
    change_message,
    no_longer_kept,
    read_after_with_previous,
    removed_message,
)
from app.domain.enums import SEVERITY_ORDER
from app.domain.registry import BY_ENTITY
from app.realtime.protocol import encode

PAGE = 500
# Beyond this many missed changes a snapshot reload is cheaper for everyone than a replay.
MAX_REPLAY = 10_000

_SEVERITY_RANK = {s.value: i for i, s in enumerate(SEVERITY_ORDER)}
_KIND_FIELD = {e.value: spec.kind_field for e, spec in BY_ENTITY.items()}


@dataclass(slots=True)
class Facts:
    """What a filter looks at in one state of an object, taken once per change."""

    entity: str
    kind: str | None
    severity: int | None
    municipalities: frozenset[str]
    police_zones: frozenset[str]
    geometry: dict[str, Any] | None
    _shape: BaseGeometry | None = field(default=None, repr=False)

    @classmethod
    def of(cls, entity: str, feature: dict[str, Any]) -> Facts:
        props = feature.get("properties") or {}
        kind_field = _KIND_FIELD.get(entity)
        return cls(
            entity=entity,
            kind=props.get(kind_field) if kind_field else None,
            severity=_SEVERITY_RANK.get(props.get("severity")),  # type: ignore[arg-type]
            municipalities=_codes(props.get("municipalities")),
            police_zones=_codes(props.get("police_zones")),
            geometry=feature.get("geometry"),
        )

    def shape(self) -> BaseGeometry | None:
        """The geometry as a shapely object, built on first use: only bbox filters need it."""
        if self._shape is None and self.geometry:
            self._shape = shape(self.geometry)
        return self._shape


def _codes(areas: Any) -> frozenset[str]:
    if not isinstance(areas, list):
        return frozenset()
    return frozenset(str(a["code"]) for a in areas if isinstance(a, dict) and "code" in a)


@dataclass(slots=True)
class FeedItem:
    """One change record: its frame text (the same str object goes to every client) and the
    facts of the object after the change and, for updates and deletes, before it."""

    seq: int
    text: str
    after: Facts
    before: Facts | None
    properties: dict[str, Any]  # after the change; the partner scope is checked on these
    at: float = 0.0  # commit time, epoch seconds
    before_properties: dict[str, Any] | None = None
    removed: dict[str, Any] | None = None
    _removed_text: str | None = None

    @property
    def removed_text(self) -> str:
        """The frame for a client that could see the object and no longer may (unshared)."""
        if self._removed_text is None:
            self._removed_text = encode({"type": "change", **(self.removed or {})})
        return self._removed_text


def item_of(row: asyncpg.Record) -> FeedItem:
    change = FeedChange(
        seq=row["seq"],
        entity=row["entity"],
        entity_id=row["entity_id"],
        op=row["op"],
        version=row["version"],
        actor=row["actor"],
        at=row["at"],
        feature=orjson.loads(row["feature"]),
    )
    previous = orjson.loads(row["previous"]) if row["previous"] is not None else None
    message = {"type": "change", **change_message(change)}
    return FeedItem(
        seq=change.seq,
        text=encode(message),
        after=Facts.of(change.entity, change.feature),
        before=Facts.of(change.entity, previous) if previous else None,
        properties=change.feature.get("properties") or {},
        at=change.at.timestamp(),
        before_properties=(previous.get("properties") or {}) if previous else None,
        removed=removed_message(change) if previous else None,
    )


async def read_after(
    connection: asyncpg.Connection, since: int, limit: int = PAGE
) -> list[FeedItem]:
    """Records with seq > since, in order. The feed is gap-free in commit order, so reading
    `seq > last` never skips a record that commits later. On the driver: the listener reads
    every record, once per instance, and each reconnecting client reads what it missed."""
    rows = await read_after_with_previous(connection, since, limit)
    return [item_of(row) for row in rows]


def replay_start(since: int | None, head: int, oldest: int | None) -> tuple[int, str | None]:
    """Where a client's stream starts, and why it must reload a snapshot instead (None: it
    gets every record after `since`)."""
    if since is None:
        return head, None
    if since > head:
        return head, f"since {since} is ahead of the feed (head {head}): another database?"
    if no_longer_kept(since, head, oldest):
        return head, f"changes after {since} are no longer kept (oldest kept: {oldest})"
    if head - since > MAX_REPLAY:
        return head, f"{head - since} changes missed, more than {MAX_REPLAY}: reload a snapshot"
    return since, None
