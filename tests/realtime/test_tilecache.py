"""The vector tiles' cache (app/realtime/tilecache.py): which tiles a change makes stale, and
what it counts high when it cannot know."""

from __future__ import annotations

from typing import Any

from app.realtime.feed import Facts, FeedItem
from app.realtime.tilecache import GENERATIONS_KEPT, Cached, TileCache, tiles_met

GRAND_PLACE = (4.3525, 50.8467)
ATOMIUM = (4.3417, 50.8949)


def _item(seq: int, after: Any, before: Any = None, entity: str = "incident") -> FeedItem:
    def facts(geometry: Any) -> Facts:
        return Facts.of(entity, {"geometry": geometry, "properties": {}})

    return FeedItem(
        seq=seq,
        text="",
        after=facts(after),
        before=facts(before) if before is not None else None,
        properties={},
    )


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def _at(z: int, lon: float, lat: float) -> tuple[int, int, int]:
    met = tiles_met((lon, lat, lon, lat), z)
    assert met is not None
    return z, met[0][0], met[1][0]


def test_a_change_raises_the_tiles_it_meets_at_every_zoom_and_no_other() -> None:
    cache = TileCache(1 << 20)
    cache.begin(10)
    cache.saw([_item(11, _point(*GRAND_PLACE))])
    for z in (0, 8, 14, 19):
        assert cache.generation("incident", *_at(z, *GRAND_PLACE)) == 11
    assert cache.generation("incident", *_at(16, *ATOMIUM)) == 10
    assert cache.generation("zone", *_at(16, *GRAND_PLACE)) == 10, "another collection's tile"


def test_a_move_makes_both_the_old_and_the_new_place_stale() -> None:
    cache = TileCache(1 << 20)
    cache.saw([_item(5, _point(*ATOMIUM), before=_point(*GRAND_PLACE))])
    assert cache.generation("incident", *_at(16, *GRAND_PLACE)) == 5
    assert cache.generation("incident", *_at(16, *ATOMIUM)) == 5


def test_a_shape_over_many_tiles_raises_its_zoom_as_a_whole() -> None:
    cache = TileCache(1 << 20)
    region = {"type": "LineString", "coordinates": [list(GRAND_PLACE), list(ATOMIUM)]}
    cache.saw([_item(7, region)])
    far = (4.25, 50.78)  # not on the line, in a tile of the same zoom
    assert cache.generation("incident", *_at(19, *far)) == 7  # thousands of tiles: the floor
    assert cache.generation("incident", *_at(10, *GRAND_PLACE)) == 7
    assert cache.generation("incident", *_at(15, 4.0, 50.5)) == 0  # few tiles there: precise


def test_a_forgotten_generation_is_counted_high_not_low() -> None:
    cache = TileCache(1 << 20)
    cache.saw([_item(3, _point(*GRAND_PLACE))])
    for seq in range(4, 4 + GENERATIONS_KEPT // 23 + 2):
        cache.saw([_item(seq, _point(4.0 + seq * 1e-4, 50.5))])
    assert cache.generation("incident", *_at(18, *GRAND_PLACE)) >= 3


def test_a_tile_of_an_older_generation_is_not_served_and_the_size_is_bounded() -> None:
    cache = TileCache(100)
    cache.put("a", Cached(1, '"1"', b"x" * 60))
    assert cache.get("a", 1) is not None
    assert cache.get("a", 2) is None
    cache.put("b", Cached(1, '"1"', b"y" * 60))
    assert cache.get("a", 1) is None, "the least recently used went out"
    assert cache.size == 60 and len(cache) == 1
    cache.put("huge", Cached(1, '"1"', b"z" * 101))
    assert cache.get("huge", 1) is None and cache.get("b", 1) is not None


def test_a_validator_differs_by_tile_scope_filters_and_generation() -> None:
    key = ("incident", "scope-a", (), 12, 2100, 1370)
    assert TileCache.etag(key, 4) != TileCache.etag(key, 5)
    assert TileCache.etag(key, 4) != TileCache.etag(("incident", "scope-b", (), 12, 2100, 1370), 4)
    assert TileCache.etag(key, 4) == TileCache.etag(key, 4)
