"""The timeline's bookmarks: the moments of a replay worth jumping to (a decision taken, an
activation moving to its next phase, a SITREP, the national threat level changed), read from the
change feed and scoped like it.

A kind of bookmark is a line of `BOOKMARK_KINDS`: the entity whose records mark it, and the
property whose change does (None: every record that creates one). A new kind is one more line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import changes
from app.domain.visibility import Scope


@dataclass(frozen=True, slots=True)
class BookmarkKind:
    name: str
    entity: str
    # The property whose new value marks the moment (its first value included); None: the
    # object's creation marks it (an append-only record such as a decision).
    field: str | None = None


BOOKMARK_KINDS: tuple[BookmarkKind, ...] = (
    BookmarkKind("decision", "decision"),
    BookmarkKind("phase", "activation", "phase"),
    BookmarkKind("sitrep", "sitrep", "status"),
    BookmarkKind("threat_level", "threat_level", "level"),
)

# A window's bookmarks are read whole or refused: a timeline with more marks than this is no
# longer read by a person, and the caller narrows the window.
MAX_BOOKMARKS = 2000
_PAGE = 1000  # records read at a time


@dataclass(frozen=True, slots=True)
class Bookmark:
    kind: str
    seq: int
    at: datetime
    by: str
    entity: str
    id: str
    title: str
    value: str | None
    previous: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "by": self.by,
            "entity": self.entity,
            "id": self.id,
            "title": self.title,
            "value": self.value,
            "previous": self.previous,
        }


def _title(props: dict[str, Any]) -> str:
    return str(props.get("title") or props.get("ref") or "")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _mark(
    kind: BookmarkKind, change: changes.Change, before: dict[str, Any] | None
) -> Bookmark | None:
    props = change.feature["properties"]
    if kind.field is None:
        if change.op != "created":
            return None
        value = previous = None
    else:
        if change.op == "deleted":
            return None
        value = _text(props.get(kind.field))
        previous = None if before is None else _text(before["properties"].get(kind.field))
        if value is None or value == previous:
            return None
    return Bookmark(
        kind.name,
        change.seq,
        change.at,
        change.actor,
        change.entity,
        str(change.entity_id),
        _title(props),
        value,
        previous,
    )


async def bookmarks(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    scope: Scope,
    kinds: tuple[BookmarkKind, ...] = BOOKMARK_KINDS,
) -> list[Bookmark] | None:
    """The bookmarks committed after `start` and up to `end` that this scope saw when they
    happened, in order; None when there are more than MAX_BOOKMARKS."""
    by_entity: dict[str, list[BookmarkKind]] = {}
    for kind in kinds:
        by_entity.setdefault(kind.entity, []).append(kind)
    marks: list[Bookmark] = []
    after = 0
    while True:
        records = await changes.marked_records(session, list(by_entity), start, end, after, _PAGE)
        for change, before in records:
            if not scope.sees(change.feature["properties"]):
                continue
            # What the object was before, only if this scope saw it then.
            seen = before if before is not None and scope.sees(before["properties"]) else None
            for kind in by_entity[change.entity]:
                mark = _mark(kind, change, seen)
                if mark is not None:
                    marks.append(mark)
        if len(marks) > MAX_BOOKMARKS:
            return None
        if len(records) < _PAGE:
            return marks
        after = records[-1][0].seq
