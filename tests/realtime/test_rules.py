"""The realtime rules on their own, without a server: filter validation, which change goes to
whom, where a stream starts, and the hub's bound."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.domain.visibility import Scope
from app.realtime.feed import MAX_REPLAY, Facts, FeedItem, replay_start
from app.realtime.hub import Hub, Outbox, Subscriber
from app.realtime.protocol import CloseCode, Filter, ProtocolError, close_reason, parse
from app.realtime.selector import Selector


def _feature(geometry: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    base = {
        "category": "fire",
        "severity": "moderate",
        "visibility": "internal",
        "municipalities": [{"code": "21004"}],
        "police_zones": [{"code": "5339"}],
    }
    return {
        "type": "Feature",
        "geometry": geometry or {"type": "Point", "coordinates": [4.35, 50.846]},
        "properties": {**base, **props},
    }


def _item(
    seq: int = 1, entity: str = "incident", before: dict[str, Any] | None = None, **after: Any
) -> FeedItem:
    feature = _feature(**after)
    return FeedItem(
        seq,
        f'{{"seq":{seq}}}',
        Facts.of(entity, feature),
        Facts.of(entity, before) if before else None,
        feature["properties"],
    )


PARTNER = Scope(partner=True)  # sees what is shared with all partners


def _accepts(flt: dict[str, Any], item: FeedItem, scope: Scope | None = None) -> bool:
    return Selector(Filter.model_validate(flt), scope or Scope()).accepts(item)


def test_empty_filter_accepts_everything_in_scope() -> None:
    assert _accepts({}, _item())
    assert not _accepts({}, _item(visibility="internal"), PARTNER)
    assert _accepts({}, _item(visibility="shared"), PARTNER)


def test_scope_is_judged_on_the_state_after_the_change() -> None:
    was_shared = _feature(visibility="shared")
    assert not _accepts({}, _item(before=was_shared, visibility="internal"), PARTNER)


def test_each_criterion_excludes_what_it_names() -> None:
    item = _item(severity="moderate", category="fire")
    assert not _accepts({"entities": ["zone"]}, item)
    assert not _accepts({"categories": ["traffic"]}, item)
    assert not _accepts({"min_severity": "severe"}, item)
    assert not _accepts({"municipalities": ["21001"]}, item)
    assert not _accepts({"police_zones": ["5341"]}, item)
    assert not _accepts({"bbox": [4.40, 50.80, 4.45, 50.82]}, item)
    assert _accepts(
        {
            "entities": ["incident"],
            "categories": ["fire"],
            "min_severity": "moderate",
            "municipalities": ["21004"],
            "police_zones": ["5339"],
            "bbox": [4.34, 50.84, 4.36, 50.85],
        },
        item,
    )


def test_criteria_on_properties_an_object_lacks_do_not_exclude_it() -> None:
    demonstration = FeedItem(1, "{}", Facts.of("demonstration", _feature(severity=None)), None, {})
    assert _accepts({"min_severity": "extreme", "categories": ["fire"]}, demonstration)


def test_bbox_takes_shapes_crossing_its_edge_and_leaves_those_without_geometry() -> None:
    crossing = {"type": "LineString", "coordinates": [[4.30, 50.845], [4.40, 50.845]]}
    assert _accepts({"bbox": [4.34, 50.84, 4.36, 50.85]}, _item(geometry=crossing))
    no_geometry = FeedItem(
        1, "{}", Facts("logbook_entry", None, None, frozenset(), frozenset(), None), None, {}
    )
    assert not _accepts({"bbox": [4.34, 50.84, 4.36, 50.85]}, no_geometry)


def test_change_leaving_the_filter_is_accepted_by_its_previous_state() -> None:
    was_severe = _feature(severity="severe")
    assert _accepts({"min_severity": "severe"}, _item(before=was_severe, severity="minor"))
    assert not _accepts(
        {"min_severity": "severe"}, _item(before=_feature(severity="minor"), severity="minor")
    )


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        ({"bbox": [4.4, 50.8, 4.3, 50.9]}, "bbox must be"),
        ({"bbox": [4.3, 50.8]}, "filter.bbox"),
        ({"categories": ["fir"]}, "unknown category 'fir'"),
        ({"min_severity": "huge"}, "filter.min_severity"),
        ({"entities": ["incidents"]}, "filter.entities.0"),
        ({"entities": []}, "filter.entities"),
        ({"police_zones": ["53 39"]}, "filter.police_zones.0"),
        ({"colour": "red"}, "filter.colour"),
    ],
)
def test_bad_filters_are_refused_with_the_field_named(flt: dict[str, Any], message: str) -> None:
    with pytest.raises(ProtocolError) as e:
        parse(json.dumps({"type": "hello", "token": "t", "filter": flt}))
    assert e.value.code == "invalid"
    assert message in e.value.message


def test_parse_names_what_is_wrong() -> None:
    for raw, code in [
        ("[1]", "bad_json"),
        ("nope", "bad_json"),
        (b"{}", "bad_json"),
        ('{"type":"x"}', "unknown_type"),
        ('{"type":"subscribe"}', "invalid"),
        ("x" * 70_000, "too_large"),
    ]:
        with pytest.raises(ProtocolError) as e:
            parse(raw)
        assert e.value.code == code, raw


def test_close_reason_fits_a_close_frame() -> None:
    reason = close_reason(CloseCode.UNAUTHENTICATED, "é" * 200)
    assert len(reason.encode()) <= 123 and reason.endswith("...")


@pytest.mark.parametrize(
    ("since", "head", "oldest", "start", "reset"),
    [
        (None, 50, 1, 50, None),
        (40, 50, 1, 40, None),
        (50, 50, 1, 50, None),
        (50, 50, None, 50, None),  # nothing missed, even if nothing is kept
        (9, 50, 10, 9, None),  # the next one (10) is still kept
        (8, 50, 10, 50, "no longer kept"),
        (40, 50, None, 50, "no longer kept"),
        (60, 50, 1, 50, "ahead of the feed"),
        (0, MAX_REPLAY + 1, 1, MAX_REPLAY + 1, "reload a snapshot"),
    ],
)
def test_where_a_stream_starts(
    since: int | None, head: int, oldest: int | None, start: int, reset: str | None
) -> None:
    begins, why = replay_start(since, head, oldest)
    assert begins == start
    assert (why is None) if reset is None else (reset in (why or ""))


async def test_hub_drops_a_full_client_and_still_delivers_to_the_others() -> None:
    hub = Hub(queue_size=2)
    everything = Selector(Filter(), Scope())
    stuck, reading = Subscriber(everything, Outbox(2), 0), Subscriber(everything, Outbox(2), 0)
    for subscriber in (stuck, reading):
        hub.attach(subscriber)
        assert hub.go_live(subscriber)
    for seq in (1, 2, 3):
        hub.publish([_item(seq)])
        await reading.outbox.take()
    assert stuck.end_code == CloseCode.TOO_SLOW
    assert reading.cursor == 3 and not reading.ended.is_set()
    assert hub.metrics().dropped_slow == 1 and hub.metrics().connected == 1


async def test_live_delivery_skips_what_the_replay_already_sent() -> None:
    hub = Hub(queue_size=10)
    subscriber = Subscriber(Selector(Filter(), Scope()), Outbox(10), cursor=5)
    hub.head = 4
    hub.attach(subscriber)
    assert hub.go_live(subscriber)
    hub.publish([_item(5), _item(6)])
    assert await subscriber.outbox.take() == ('{"seq":6}', 1)
    assert len(subscriber.outbox) == 0


def test_replaying_client_goes_live_only_once_it_has_caught_up_with_the_hub() -> None:
    hub = Hub(queue_size=10)
    hub.head = 7
    subscriber = Subscriber(Selector(Filter(), Scope()), Outbox(10), cursor=5)
    hub.attach(subscriber)
    assert not hub.go_live(subscriber)
    subscriber.cursor = 7
    assert hub.go_live(subscriber)


async def test_waiting_messages_leave_together_one_per_line() -> None:
    outbox = Outbox(10)
    outbox.offer('{"seq":1}')
    assert await outbox.take() == ('{"seq":1}', 1)
    for seq in (2, 3, 4):
        outbox.offer(f'{{"seq":{seq}}}')
    assert await outbox.take(max_chars=20) == ('{"seq":2}\n{"seq":3}', 2)
    assert await outbox.take() == ('{"seq":4}', 1)
