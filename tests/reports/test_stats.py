"""The annual figures' rules: the Brussels calendar year, exercises set apart, cancelled
events, the median time to acknowledge, alarm tests, a year out of range; and the route's
permissions and bad input. The counting rules run in a database of their own."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.enums import AckVia, CapSeverity, CapStatus, Certainty, MsgType, Urgency
from app.alerts.lifecycle import campaigns, service
from app.alerts.lifecycle.compose import AlertDraft
from app.alerts.settings import get_alert_settings
from app.db import transaction
from app.demo import Item, Loader, point
from app.domain import activation, demonstration, incident, planned_event
from app.domain.spec import EntitySpec
from app.errors import ProblemError
from app.reports import stats, stats_formats
from tests.reports.fresh import fresh_database

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
GRAND_PLACE = point(4.3525, 50.8467)  # Bruxelles, 21004
FLAGEY = point(4.3722, 50.8275)  # Ixelles, 21009


@pytest.fixture(scope="module")
async def db() -> AsyncIterator[Sessions]:
    async with fresh_database("stats") as fresh:
        yield fresh.sessions


async def put(
    sessions: Sessions, spec: EntitySpec, key: str, props: dict[str, Any], **links: Any
) -> Any:
    geometry = props.pop("geometry", None)
    then = props.pop("then", ())
    async with transaction(sessions) as session:
        return await Loader(session, "test").put(spec, Item(key, props, geometry, then), **links)


async def figures(sessions: Sessions, year: int) -> dict[str, Any]:
    async with sessions() as session:
        return await stats.annual_figures(session, year, now=NOW)


def event(key: str, starts: str, kind: str = "mass_event", **more: Any) -> dict[str, Any]:
    start = datetime.fromisoformat(starts)
    return {
        "title": key,
        "kind": kind,
        "starts_at": starts,
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "geometry": GRAND_PLACE,
        **more,
    }


async def test_an_object_counts_in_the_brussels_year_it_starts(db: Sessions) -> None:
    # 23:30 on 31 December in Brussels is 22:30 UTC: still 2024. 00:30 on 1 January is 2025.
    late, early = "2024-12-31T23:30:00+01:00", "2025-01-01T00:30:00+01:00"
    assert datetime.fromisoformat(late).astimezone(UTC).hour == 22
    before = {y: await figures(db, y) for y in (2024, 2025)}
    for when, tag in ((late, "late"), (early, "early")):
        ev = await put(db, planned_event.SPEC, f"nye-{tag}", event(f"NYE {tag}", when))
        await put(
            db,
            demonstration.SPEC,
            f"demo-{tag}",
            {"title": tag, **{k: v for k, v in event(tag, when).items() if "_at" in k}}
            | {"geometry": FLAGEY},
        )
        await put(
            db,
            incident.SPEC,
            f"inc-{tag}",
            {"title": tag, "category": "fire", "severity": "minor", "occurred_at": when}
            | {"geometry": GRAND_PLACE},
        )
        await put(
            db,
            activation.SPEC,
            f"gcc-{tag}",
            {"title": tag, "level": "monitoring", "opened_at": when},
            subject_entity="planned_event",
            subject_id=ev.id,
        )
    after = {y: await figures(db, y) for y in (2024, 2025)}
    for year in (2024, 2025):
        for key in ("planned_events", "demonstrations", "incidents", "activations"):
            assert after[year][key] == before[year][key] + 1, (year, key)
        assert after[year]["activations_coordinated_by_sitcen"] == (
            before[year]["activations_coordinated_by_sitcen"] + 1
        )
    assert after[2024]["by_month"]["planned_events"][11] == 1  # December
    assert after[2025]["by_month"]["planned_events"][0] == 1  # January
    # An activation without a place of its own counts where its subject is.
    (brussels,) = [m for m in after[2024]["by_municipality"] if m["code"] == "21004"]
    (ixelles,) = [m for m in after[2024]["by_municipality"] if m["code"] == "21009"]
    assert (brussels["activations"], brussels["incidents"], ixelles["demonstrations"]) == (1, 1, 1)


async def test_exercises_and_cancelled_events_are_set_apart(db: Sessions) -> None:
    year = 2019
    await put(
        db, planned_event.SPEC, "ftx-real", event("FTX", "2019-04-02T09:00+02:00", "exercise")
    )
    await put(
        db,
        planned_event.SPEC,
        "ftx-played",
        event("FTX played", "2019-04-03T09:00+02:00", "exercise", exercise=True),
    )
    await put(db, planned_event.SPEC, "summit", event("Summit", "2019-03-21T09:00+01:00", "summit"))
    visit = event("Visit", "2019-05-02T09:00+02:00", "delegation_visit")
    await put(db, planned_event.SPEC, "visit", visit)
    await put(
        db, planned_event.SPEC, "festival", event("Fest", "2019-06-02T09:00+02:00", "festival")
    )
    await put(
        db,
        planned_event.SPEC,
        "cancelled",
        event("Cancelled", "2019-06-09T09:00+02:00") | {"then": ({"status": "cancelled"},)},
    )
    await put(
        db,
        incident.SPEC,
        "played",
        {"title": "played", "category": "explosion", "severity": "extreme"}
        | {"occurred_at": "2019-04-02T10:00+02:00", "exercise": True, "geometry": GRAND_PLACE},
    )
    await put(
        db,
        activation.SPEC,
        "played-gcc",
        {"title": "played", "level": "coordination", "coordinator": "high_official"}
        | {"opened_at": "2019-04-02T10:10+02:00", "exercise": True},
    )
    table = await figures(db, year)
    assert table["field_exercises"] == 1  # the real FTX, not the one played in an exercise
    assert (table["summits"], table["delegation_visits"]) == (1, 1)
    assert table["planned_events"] == 1  # the festival: not the summit, visit, FTX, cancelled
    assert table["planned_events_by_kind"]["festival"] == 1
    assert "summit" not in table["planned_events_by_kind"]
    assert (table["incidents"], table["activations"]) == (0, 0)
    assert table["incidents_by_category"]["explosion"] == 0
    assert table["exercise_objects"] == {
        "activations": 1,
        "planned_events": 1,
        "demonstrations": 0,
        "incidents": 1,
    }
    assert table["cancelled"] == {"planned_events": 1, "demonstrations": 0}


def draft(status: CapStatus = CapStatus.Actual) -> AlertDraft:
    return AlertDraft(
        status=status,
        msg_type=MsgType.Alert,
        severity=CapSeverity.Moderate,
        urgency=Urgency.Immediate,
        certainty=Certainty.Observed,
        categories=[],
        event="test",
        texts={"fr": {"headline": "test"}},
        area_desc="Bruxelles",
    )


async def test_alerts_median_time_to_acknowledge_and_alarm_tests(db: Sessions) -> None:
    year, sent = 2011, datetime(2011, 5, 3, 10, tzinfo=UTC)
    partners = ["pz-5339", "pz-5340", "pz-5341", "pz-5342", "pz-5343"]
    settings = get_alert_settings()
    async with transaction(db) as session:
        for status in (CapStatus.Actual, CapStatus.Exercise):
            made = await service.create_alert(
                session, draft(status), partners, actor="t", settings=settings, now=sent
            )
            for org, seconds in zip(partners, (10, 20, 40, 100), strict=False):  # one never
                await service.acknowledge(
                    session, made.alert.id, org, by="t", via=AckVia.rest,
                    now=sent + timedelta(seconds=seconds),
                )  # fmt: skip
        test = await campaigns.start(
            session, "=HYPERLINK(\"http://x\")", partners[:4], actor="t", settings=settings,
            now=sent,
        )  # fmt: skip
        await service.acknowledge(
            session, test.alert_id, "pz-5339", by="t", via=AckVia.rest,
            now=sent + timedelta(seconds=90),
        )  # fmt: skip
    table = await figures(db, year)
    # Only the Actual alert: not the exercise's, not the alarm test's.
    assert (table["alerts_sent"], table["alert_recipients"], table["alerts_acknowledged"]) == (
        1,
        5,
        4,
    )
    assert table["alerts_median_seconds_to_ack"] == 30.0  # between 20 and 40
    assert (table["alarm_tests"], table["alarm_test_recipients"]) == (1, 4)
    assert (table["alarm_test_answered"], table["alarm_test_answer_rate"]) == (1, 0.25)
    (campaign,) = table["alarm_test_campaigns"]
    assert campaign["median_seconds_to_ack"] == 90.0
    # A name a spreadsheet would run is written as text.
    rows = list(csv.reader(io.StringIO(stats_formats.as_csv(table))))
    assert ["alarm_test.answer_rate", '\'=HYPERLINK("http://x")', "0.25"] in rows
    assert ["alarm_test.answered", '\'=HYPERLINK("http://x")', "1"] in rows


@pytest.mark.parametrize("year", [1999, 2028, -1])
async def test_a_year_out_of_range_is_refused(db: Sessions, year: int) -> None:
    with pytest.raises(ProblemError) as refused:
        await figures(db, year)
    assert refused.value.status == 422
    assert refused.value.errors and refused.value.errors[0]["loc"] == ["query", "year"]
    assert "from 2000 to 2027" in refused.value.detail


async def test_next_year_is_allowed(db: Sessions) -> None:
    assert (await figures(db, 2027))["year"] == 2027


def test_an_unknown_format_is_a_clear_command_line_error() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "stats", "--year", "2024", "--format", "xml"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "unknown format 'xml': use one of table, json, csv" in out.stderr
