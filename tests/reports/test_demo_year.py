"""`sitcen demo --year 2024` loads a year whose annual figures are the published ones, in a
database of its own (the figures are exact only where nothing else was written)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import demo, demo_year
from app.alerts.models import Alert
from app.domain import changes
from app.domain.demonstration import Demonstration
from app.domain.incident import Incident
from app.domain.planned_event import PlannedEvent
from app.reports import stats
from tests.reports.fresh import Fresh, fresh_database

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
BRUSSELS = demo_year.BRUSSELS


@pytest.fixture(scope="module")
async def fresh() -> AsyncIterator[Fresh]:
    async with fresh_database("year") as db:
        await demo_year.load_year(db.sessions, 2024)
        yield db


@pytest.fixture
def year_db(fresh: Fresh) -> Sessions:
    return fresh.sessions


async def figures(sessions: Sessions, year: int = 2024) -> dict[str, Any]:
    async with sessions() as session:
        return await stats.annual_figures(session, year, now=NOW)


async def test_the_2024_table_is_the_published_one(year_db: Sessions) -> None:
    table = await figures(year_db)
    assert {k: table[k] for k in demo_year.Published.__dataclass_fields__} == {
        "activations": 115,
        "activations_coordinated_by_sitcen": 25,
        "planned_events": 33,
        "demonstrations": 30,
        "summits": 6,
        "delegation_visits": 11,
        "field_exercises": 2,
    }
    assert sum(table["planned_events_by_kind"].values()) == 33
    assert table["incidents"] == sum(table["incidents_by_category"].values())
    assert table["incidents"] == sum(table["incidents_by_severity"].values())
    # The exercise played at Woluwe Shopping and the FTX's own activations are set apart.
    assert table["exercise_objects"]["incidents"] == 1
    assert table["exercise_objects"]["activations"] == 2
    assert table["cancelled"]["demonstrations"] == 1
    assert 0 < table["alerts_acknowledged"] < table["alert_recipients"]
    assert table["alerts_median_seconds_to_ack"] > 0
    assert table["alarm_tests"] == 4
    assert 0 < table["alarm_test_answer_rate"] < 1


async def test_spread_over_the_year_and_the_region(year_db: Sessions) -> None:
    table = await figures(year_db)
    for series in ("activations", "incidents"):
        assert all(n > 0 for n in table["by_month"][series]), series
    assert sum(table["by_month"]["demonstrations"]) == 30
    municipalities = {m["code"] for m in table["by_municipality"] if m["incidents"]}
    assert len(municipalities) >= 17, municipalities
    brussels = next(m for m in table["by_municipality"] if m["code"] == "21004")
    assert brussels["name_fr"] == "Bruxelles" and brussels["summits"] == 6


async def test_the_years_landmarks_are_there(year_db: Sessions) -> None:
    async with year_db() as session:
        rows = (await session.execute(select(PlannedEvent.kind, PlannedEvent.starts_at))).all()
    days = {(kind, start.astimezone(BRUSSELS).date().isoformat()) for kind, start in rows}
    assert ("papal_visit", "2024-09-26") in days
    assert ("election", "2024-06-09") in days
    assert ("commemoration", "2024-07-21") in days
    assert ("mass_event", "2024-12-31") in days  # New Year's Eve
    assert any(kind == "festival" and day.startswith("2024-02") for kind, day in days)  # Bright
    assert any(kind == "sports_match" for kind, _ in days)


async def test_every_object_lies_in_the_municipality_its_place_names(year_db: Sessions) -> None:
    code_of = {name: code for name, _, _, code in demo_year.PLACES.values()}
    wrong = []
    async with year_db() as session:
        for model, place in (
            (PlannedEvent, PlannedEvent.venue),
            (Incident, Incident.place),
            (Demonstration, Demonstration.title),
        ):
            rows = await session.execute(
                select(place, model.municipality_codes).where(model.source == demo_year.SOURCE)
            )
            for name, codes in rows:
                expected = code_of.get(name) or code_of[name.rsplit(" — ", 1)[1]]
                if codes != [expected]:
                    wrong.append((name, codes, expected))
    assert wrong == []


async def test_a_second_load_adds_nothing(year_db: Sessions) -> None:
    before = await figures(year_db)
    async with year_db() as session:
        head = await changes.head(session)
        alerts = await session.scalar(select(func.count()).select_from(Alert))

    created = await demo_year.load_year(year_db, 2024)

    assert set(created.values()) == {0}
    assert await figures(year_db) == before
    async with year_db() as session:
        assert await changes.head(session) == head, "no change record was appended"
        assert await session.scalar(select(func.count()).select_from(Alert)) == alerts


async def test_only_a_published_year_loads(year_db: Sessions) -> None:
    with pytest.raises(ValueError, match="no published figures for 2023"):
        await demo_year.load_year(year_db, 2023)


def sitcen(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SITCEN_DATABASE_URL": url, "SITCEN_SECRET_KEY": "k" * 48}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_the_command_line_gives_the_table(fresh: Fresh) -> None:
    table = sitcen(fresh.url, "stats", "--year", "2024")
    assert table.returncode == 0, table.stderr
    assert re.search(r"^  activations +115$", table.stdout, re.MULTILINE)
    assert re.search(r"^  activations_coordinated_by_sitcen +25$", table.stdout, re.MULTILINE)

    as_json = sitcen(fresh.url, "stats", "--year", "2024", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == json.loads(json.dumps(await figures(fresh.sessions)))

    as_csv = sitcen(fresh.url, "stats", "--year", "2024", "--format", "csv")
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0] == ["figure", "breakdown", "value"]
    assert ["summits", "", "6"] in rows and ["field_exercises", "", "2"] in rows
    assert ["by_month.summits", "2024-02", "1"] in rows

    again = sitcen(fresh.url, "demo", "--year", "2024")
    assert again.returncode == 0, again.stderr
    assert "created nothing" in again.stdout


async def test_the_year_is_drawn_from_a_fixed_seed(year_db: Sessions) -> None:
    def draw() -> list[dict[str, Any]]:
        return demo_year._Year(None, demo_year.PUBLISHED[2024]).incident_rows(2024)  # type: ignore[arg-type]

    first, second = draw(), draw()
    assert first == second
    table = await figures(year_db)
    scenario = sum(1 for row in demo.INCIDENTS if not row.exercise)
    assert table["incidents"] == len(first) + scenario
