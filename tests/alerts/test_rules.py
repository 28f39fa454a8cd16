"""Rule matching on its own, table-driven: a change's Feature and a subscription → alert or not."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.alerts.enums import MsgType
from app.alerts.workers.rules import Context, Previous, Rule, Subject, ZoneArea, decide, matches

HERE = (4.352, 50.846)  # inside the square below
ELSEWHERE = (4.40, 50.88)
PERIMETER = uuid.uuid4()
HOTSPOT = uuid.uuid4()
LIFTED = uuid.uuid4()
INTERNAL = uuid.uuid4()
OTHERS = uuid.uuid4()
OURS = uuid.uuid4()
INTERNAL_AT, OTHERS_AT, OURS_AT = (4.33, 50.83), (4.34, 50.83), (4.35, 50.83)


def square(lon: float, lat: float, d: float = 0.002) -> dict[str, Any]:
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def zone(zone_id: uuid.UUID, kind: str, at: tuple[float, float], **seen: Any) -> ZoneArea:
    active = seen.pop("active", True)
    return ZoneArea.of(zone_id, kind, active, square(*at, 0.001), **seen)


SHARED = {"visibility": "shared"}
CONTEXT = Context(
    {
        PERIMETER: ZoneArea.of(PERIMETER, "security_perimeter", True, square(*HERE), **SHARED),
        HOTSPOT: zone(HOTSPOT, "hotspot", (4.36, 50.85), **SHARED),
        LIFTED: zone(LIFTED, "security_perimeter", (4.37, 50.84), active=False, **SHARED),
        # Zones the rules' partner (pz-5339) may not see: internal, or another partner's.
        INTERNAL: zone(INTERNAL, "hotspot", INTERNAL_AT, visibility="internal"),
        OTHERS: zone(OTHERS, "hotspot", OTHERS_AT, visibility="internal", shared_with=["pz-5340"]),
        OURS: zone(OURS, "hotspot", OURS_AT, visibility="internal", shared_with=["pz-5339"]),
    }
)


def feature(
    entity: str = "incident", at: tuple[float, float] = HERE, **props: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "category": "fire",
        "severity": "severe",
        "status": "confirmed",
        "visibility": "shared",
        "municipalities": [{"code": "21004", "name_fr": "Bruxelles", "name_nl": "Brussel"}],
        "police_zones": [{"code": "5339"}],
    }
    if entity == "zone":
        base = {**base, "kind": "security_perimeter", "status": "active"}
        del base["severity"], base["category"]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(at)},
        "properties": {**base, **props},
    }


def subject(entity: str = "incident", op: str = "created", **kw: Any) -> Subject:
    return Subject(entity, uuid.uuid4(), op, feature(entity, **kw))


def rule(**kw: Any) -> Rule:
    args: dict[str, Any] = {
        "id": uuid.uuid4(),
        "organisation": "pz-5339",
        "entities": ["incident"],
        "area_kind": "region",
        **kw,
    }
    return Rule.build(**args)


POLYGON = {"area_kind": "polygon", "polygon": square(*HERE)}
HOTSPOTS = {"area_kind": "zone_kinds", "zone_kinds": ["hotspot"]}

MATCHING: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    # (case, subscription, change, matches?)
    ("inside the drawn area", POLYGON, {}, True),
    ("outside the drawn area", POLYGON, {"at": ELSEWHERE}, False),
    ("on the area's edge", POLYGON, {"at": (HERE[0] + 0.002, HERE[1])}, True),
    ("whole region", {}, {"at": ELSEWHERE}, True),
    ("severity at the threshold", {"min_severity": "severe"}, {}, True),
    ("severity above the threshold", {"min_severity": "severe"}, {"severity": "extreme"}, True),
    ("severity below the threshold", {"min_severity": "severe"}, {"severity": "moderate"}, False),
    ("category listed", {"categories": ["fire", "hazmat"]}, {}, True),
    ("category not listed", {"categories": ["hazmat"]}, {}, False),
    ("municipality listed", {"area_kind": "municipalities", "codes": ["21004"]}, {}, True),
    ("municipality not listed", {"area_kind": "municipalities", "codes": ["21001"]}, {}, False),
    ("police zone listed", {"area_kind": "police_zones", "codes": ["5339"]}, {}, True),
    ("police zone not listed", {"area_kind": "police_zones", "codes": ["5340"]}, {}, False),
    ("inside a named zone", {"area_kind": "zone", "zone_id": PERIMETER}, {}, True),
    (
        "outside a named zone",
        {"area_kind": "zone", "zone_id": PERIMETER},
        {"at": ELSEWHERE},
        False,
    ),
    (
        "inside an active security perimeter",
        {"area_kind": "zone_kinds", "zone_kinds": ["security_perimeter"]},
        {},
        True,
    ),
    (
        "inside a hotspot",
        {"area_kind": "zone_kinds", "zone_kinds": ["hotspot"]},
        {"at": (4.36, 50.85)},
        True,
    ),
    (
        "inside a lifted perimeter",
        {"area_kind": "zone_kinds", "zone_kinds": ["security_perimeter"]},
        {"at": (4.37, 50.84)},
        False,
    ),
    (
        "outside every perimeter",
        {"area_kind": "zone_kinds", "zone_kinds": ["security_perimeter", "hotspot"]},
        {"at": ELSEWHERE},
        False,
    ),
    ("entity not subscribed", {"entities": ["zone"]}, {}, False),
    # A partner's rules see only the zones the partner may see: an alert "inside" any other
    # would tell it where that zone lies.
    ("inside a hotspot shared with the partner", HOTSPOTS, {"at": OURS_AT}, True),
    ("inside an internal hotspot", HOTSPOTS, {"at": INTERNAL_AT}, False),
    ("inside another partner's hotspot", HOTSPOTS, {"at": OTHERS_AT}, False),
    (
        "inside a named zone shared with it",
        {"area_kind": "zone", "zone_id": OURS},
        {"at": OURS_AT},
        True,
    ),
    (
        "inside a named internal zone",
        {"area_kind": "zone", "zone_id": INTERNAL},
        {"at": INTERNAL_AT},
        False,
    ),
    (
        "inside another's named zone",
        {"area_kind": "zone", "zone_id": OTHERS},
        {"at": OTHERS_AT},
        False,
    ),
]


@pytest.mark.parametrize(
    ("subscription", "change", "expected"),
    [case[1:] for case in MATCHING],
    ids=[case[0] for case in MATCHING],
)
def test_rule_matching(
    subscription: dict[str, Any], change: dict[str, Any], expected: bool
) -> None:
    assert matches(rule(**subscription), subject(**change), CONTEXT) is expected


ZONES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    (
        "zone of a planned event in the area",
        {"entities": ["zone"], "parent_entities": ["planned_event"], **POLYGON},
        {"parent_entity": "planned_event"},
        True,
    ),
    (
        "zone of no event",
        {"entities": ["zone"], "parent_entities": ["planned_event"], **POLYGON},
        {"parent_entity": None},
        False,
    ),
    (
        "zone of an event elsewhere",
        {"entities": ["zone"], "parent_entities": ["planned_event"], **POLYGON},
        {"parent_entity": "planned_event", "at": ELSEWHERE},
        False,
    ),
    (
        "severity threshold does not exclude zones",
        {"entities": ["zone"], "min_severity": "extreme"},
        {},
        True,
    ),
    ("zone kind not listed", {"entities": ["zone"], "categories": ["drone_ban"]}, {}, False),
]


@pytest.mark.parametrize(
    ("subscription", "change", "expected"),
    [case[1:] for case in ZONES],
    ids=[case[0] for case in ZONES],
)
def test_zone_rule_matching(
    subscription: dict[str, Any], change: dict[str, Any], expected: bool
) -> None:
    assert matches(rule(**subscription), subject("zone", **change), CONTEXT) is expected


def test_a_zone_is_not_inside_itself() -> None:
    perimeter = Subject("zone", PERIMETER, "updated", feature("zone"))
    r = rule(entities=["zone"], area_kind="zone_kinds", zone_kinds=["security_perimeter"])
    assert not matches(r, perimeter, CONTEXT)


def _decide(
    change: Subject, previous: Previous | None = None, **subscription: Any
) -> MsgType | None:
    decision = decide(rule(**subscription), change, CONTEXT, previous)
    return decision.msg_type if decision else None


def test_first_match_alerts_and_the_same_state_does_not_again() -> None:
    first = subject()
    assert _decide(first) == MsgType.Alert
    again = Subject("incident", first.id, "updated", {**first.feature})
    again.feature["properties"] = {**first.properties, "title": "renamed"}
    assert _decide(again, Previous(uuid.uuid4(), first.fingerprint())) is None


@pytest.mark.parametrize(
    "change",
    [{"severity": "extreme"}, {"status": "ongoing"}, {"at": (4.3521, 50.8461)}],
    ids=["severity", "status", "moved"],
)
def test_material_change_updates_the_last_alert(change: dict[str, Any]) -> None:
    before = subject()
    earlier = Previous(uuid.uuid4(), before.fingerprint())
    decision = decide(rule(), subject(op="updated", **change), CONTEXT, earlier)
    assert decision is not None
    assert decision.msg_type == MsgType.Update and decision.references == earlier.alert_id


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"status": "false_alarm"}, MsgType.Cancel),
        ({"status": "closed"}, MsgType.Cancel),
        ({"op": "deleted"}, MsgType.Cancel),
    ],
    ids=["false alarm", "closed", "deleted"],
)
def test_an_alerted_object_that_ends_is_cancelled(
    change: dict[str, Any], expected: MsgType
) -> None:
    earlier = Previous(uuid.uuid4(), subject().fingerprint())
    assert _decide(subject(**change), earlier) == expected
    assert _decide(subject(**change)) is None, "nothing to cancel without an earlier alert"


def test_partner_is_not_alerted_about_what_it_may_not_read() -> None:
    assert _decide(subject(visibility="internal")) is None
    assert _decide(subject(visibility="internal", shared_with=["pz-5339"])) == MsgType.Alert
    assert _decide(subject(visibility="internal", shared_with=["stib-mivb"])) is None


def test_below_threshold_after_an_alert_raises_nothing() -> None:
    earlier = Previous(uuid.uuid4(), subject().fingerprint())
    assert _decide(subject(severity="minor"), earlier, min_severity="severe") is None


@pytest.mark.parametrize(
    "change",
    [
        {"status": "false_alarm", "visibility": "internal"},
        {"status": "false_alarm", "visibility": "internal", "shared_with": ["pz-5340"]},
        {"op": "deleted", "visibility": "internal"},
    ],
    ids=["withdrawn then ended", "given to another partner then ended", "withdrawn then deleted"],
)
def test_an_object_that_ends_out_of_the_partners_sight_is_cancelled_from_what_it_saw(
    change: dict[str, Any],
) -> None:
    earlier = Previous(uuid.uuid4(), subject().fingerprint())
    decision = decide(rule(), subject(**change), CONTEXT, earlier)
    assert decision is not None
    assert (decision.msg_type, decision.references) == (MsgType.Cancel, earlier.alert_id)
    assert decision.current is False, "composed from the alert it cancels, not this change"


def test_an_object_that_ends_in_the_partners_sight_is_cancelled_from_its_last_state() -> None:
    earlier = Previous(uuid.uuid4(), subject().fingerprint())
    decision = decide(rule(), subject(status="closed"), CONTEXT, earlier)
    assert decision is not None and decision.current is True
