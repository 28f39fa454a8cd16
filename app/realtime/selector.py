"""A client's filter and permission scope, compiled once, asked for every change."""

from __future__ import annotations

from shapely import box, prepare

from app.domain.visibility import Scope
from app.realtime.feed import Facts, FeedItem
from app.realtime.protocol import Filter


class Selector:
    """Decides whether a change goes to one client. A change passes when the object satisfies
    the filter after the change or before it (so that the client sees it leave), and when
    the state after the change is within the client's permission scope (as GET /api/changes)."""

    __slots__ = (
        "_bounds",
        "_box",
        "_categories",
        "_entities",
        "_min_severity",
        "_municipalities",
        "_police_zones",
        "_scope",
        "everything",
        "filter",
    )

    def __init__(self, flt: Filter, scope: Scope) -> None:
        self.filter = flt
        self._scope = None if scope.everything else scope
        self._entities = frozenset(e.value for e in flt.entities) if flt.entities else None
        self._categories = frozenset(flt.categories) if flt.categories else None
        self._min_severity = flt.min_severity.rank if flt.min_severity else None
        self._municipalities = frozenset(flt.municipalities) if flt.municipalities else None
        self._police_zones = frozenset(flt.police_zones) if flt.police_zones else None
        self._bounds = flt.bbox
        self._box = box(*flt.bbox) if flt.bbox else None
        if self._box is not None:
            prepare(self._box)
        self.everything = flt == Filter()

    def frame(self, item: FeedItem) -> str | None:
        """The text to send this client for a change, or None. A client whose scope saw the
        object before the change but not after (it was unshared) gets a `removed` change."""
        if self._scope is not None and not self._scope.sees(item.properties):
            before = item.before_properties
            return item.removed_text if before is not None and self._scope.sees(before) else None
        return item.text if self.accepts(item) else None

    def accepts(self, item: FeedItem) -> bool:
        if self._scope is not None and not self._scope.sees(item.properties):
            return False
        if self.everything:
            return True
        return self._matches(item.after) or (item.before is not None and self._matches(item.before))

    def _matches(self, facts: Facts) -> bool:
        if self._entities is not None and facts.entity not in self._entities:
            return False
        if (
            self._categories is not None
            and facts.kind is not None
            and facts.kind not in self._categories
        ):
            return False
        if (
            self._min_severity is not None
            and facts.severity is not None
            and facts.severity < self._min_severity
        ):
            return False
        if self._municipalities is not None and not self._municipalities & facts.municipalities:
            return False
        if self._police_zones is not None and not self._police_zones & facts.police_zones:
            return False
        return self._box is None or self._in_box(facts)

    def _in_box(self, facts: Facts) -> bool:
        geometry = facts.shape()
        if geometry is None or self._bounds is None or self._box is None:
            return False
        minx, miny, maxx, maxy = self._bounds
        gx0, gy0, gx1, gy1 = geometry.bounds
        if gx1 < minx or gx0 > maxx or gy1 < miny or gy0 > maxy:
            return False
        if minx <= gx0 and gx1 <= maxx and miny <= gy0 and gy1 <= maxy:
            return True
        return bool(self._box.intersects(geometry))
