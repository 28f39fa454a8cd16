"""This instance's vector tiles already built, and the feed position each one holds.

A tile's *generation* is the seq of the last change that may have altered it: the last change of
its collection whose geometry, before or after, meets the tile (with its buffer). The listener
tells the cache every change it publishes (`saw`); a change raises the generation of the tiles
it meets, at every zoom, and a tile built for an older generation is not served again. The
generation is read before a tile is built, so a tile never holds less than its generation says
(it may hold more: a change committed and not yet heard; its ETag then changes once it is).

What the cache does not know precisely it counts high, never low: at start every tile is at the
feed's head; a change too big to list its tiles at a zoom (an outline over the whole region at
zoom 19) raises that zoom's floor; a forgotten tile generation raises its zoom's floor.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from app.realtime.feed import FeedItem

MAX_ZOOM = 22
# Tiles a change may list per zoom; beyond, the zoom's floor rises instead.
TILES_PER_ZOOM = 16
# Generations remembered per tile; beyond, the oldest is folded into its zoom's floor.
GENERATIONS_KEPT = 200_000
BUFFER_FRACTION = 64 / 4096  # app.domain.tiles.BUFFER / EXTENT


def _bounds(geometry: dict[str, Any] | None) -> tuple[float, float, float, float] | None:
    if not geometry:
        return None
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if c and isinstance(c[0], (int, float)):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        else:
            for part in c:
                walk(part)

    if geometry.get("type") == "GeometryCollection":
        for g in geometry.get("geometries") or []:
            walk(g.get("coordinates") or [])
    else:
        walk(geometry.get("coordinates") or [])
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def _tile_x(lon: float, n: int) -> float:
    return (lon + 180.0) / 360.0 * n


def _tile_y(lat: float, n: int) -> float:
    lat = max(min(lat, 85.0511287798), -85.0511287798)
    r = math.radians(lat)
    return (1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n


def _unit_box(bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """`bounds` (lon/lat) on the unit square of Web Mercator (y down): at zoom z, a tile
    coordinate is this times 2**z. Projected once for every zoom a change meets."""
    minx, miny, maxx, maxy = bounds
    return _tile_x(minx, 1), _tile_y(maxy, 1), _tile_x(maxx, 1), _tile_y(miny, 1)


def _met(unit: tuple[float, float, float, float], z: int) -> tuple[range, range] | None:
    n = 2**z
    left, top, right, bottom = unit
    pad = BUFFER_FRACTION
    x0 = max(0, math.floor(left * n - pad))
    x1 = min(n - 1, math.floor(right * n + pad))
    y0 = max(0, math.floor(top * n - pad))
    y1 = min(n - 1, math.floor(bottom * n + pad))
    if x1 < x0 or y1 < y0:
        return None
    return range(x0, x1 + 1), range(y0, y1 + 1)


def tiles_met(bounds: tuple[float, float, float, float], z: int) -> tuple[range, range] | None:
    """The tile columns and rows at zoom `z` whose buffered square meets `bounds` (lon/lat)."""
    return _met(_unit_box(bounds), z)


@dataclass(frozen=True, slots=True)
class Cached:
    generation: int
    etag: str
    body: bytes


class TileCache:
    """Tiles built, bounded by their total size (least recently used first out), and the
    generations of the tiles the feed's changes met."""

    def __init__(self, max_bytes: int, start: int = 0) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._tiles: OrderedDict[Hashable, Cached] = OrderedDict()
        self._start = start
        self._floors: dict[tuple[str, int], int] = {}
        self._generations: OrderedDict[tuple[str, int, int, int], int] = OrderedDict()

    def begin(self, head: int) -> None:
        """Every tile is at `head` at least (the feed's head when the instance starts)."""
        self._start = max(self._start, head)

    def generation(self, entity: str, z: int, x: int, y: int) -> int:
        floor = max(self._start, self._floors.get((entity, z), 0))
        return max(floor, self._generations.get((entity, z, x, y), 0))

    def saw(self, items: Iterable[FeedItem]) -> None:
        """The listener's hook: changes just published, in seq order."""
        for item in items:
            boxes = [b for b in (_bounds(item.after.geometry),) if b]
            if item.before is not None:
                before = _bounds(item.before.geometry)
                if before:
                    boxes.append(before)
            for box in boxes:
                self._raise(item.after.entity, box, item.seq)

    def _raise(self, entity: str, box: tuple[float, float, float, float], seq: int) -> None:
        unit = _unit_box(box)
        for z in range(MAX_ZOOM + 1):
            met = _met(unit, z)
            if met is None:
                continue
            xs, ys = met
            if len(xs) * len(ys) > TILES_PER_ZOOM:
                self._floors[(entity, z)] = seq
                continue
            for x in xs:
                for y in ys:
                    key = (entity, z, x, y)
                    self._generations[key] = seq
                    self._generations.move_to_end(key)
        while len(self._generations) > GENERATIONS_KEPT:
            (entity, z, _x, _y), seq = self._generations.popitem(last=False)
            self._floors[(entity, z)] = max(self._floors.get((entity, z), 0), seq)

    @staticmethod
    def etag(key: Hashable, generation: int) -> str:
        """A validator naming the tile, the reader's scope and filters (in `key`) and the
        generation: two scopes never share one."""
        digest = hashlib.blake2b(repr((key, generation)).encode(), digest_size=12).hexdigest()
        return f'"{generation}-{digest}"'

    def get(self, key: Hashable, generation: int) -> Cached | None:
        found = self._tiles.get(key)
        if found is None or found.generation != generation:
            self.misses += 1
            return None
        self._tiles.move_to_end(key)
        self.hits += 1
        return found

    def put(self, key: Hashable, cached: Cached) -> None:
        if len(cached.body) > self.max_bytes:
            return
        old = self._tiles.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        self._tiles[key] = cached
        self.size += len(cached.body)
        while self.size > self.max_bytes:
            _, dropped = self._tiles.popitem(last=False)
            self.size -= len(dropped.body)

    def __len__(self) -> int:
        return len(self._tiles)
