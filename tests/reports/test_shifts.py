"""The watch's shifts: configured as Brussels times of day, right across the DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from app.reports.shifts import (
    LOCAL_TIME,
    due_change,
    is_change,
    last_change,
    next_change,
    shift_ending,
)
from app.settings import Settings

CHANGES = (time(7, 0), time(19, 0))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TIME).astimezone(UTC)


def test_a_day_shift_runs_from_seven_to_seven_in_brussels_time() -> None:
    at = local(2026, 6, 15, 10, 30)
    assert last_change(at, CHANGES) == local(2026, 6, 15, 7, 0)
    assert next_change(at, CHANGES) == local(2026, 6, 15, 19, 0)
    assert last_change(at, CHANGES) == datetime(2026, 6, 15, 5, 0, tzinfo=UTC)  # CEST is +2


def test_the_night_shift_crosses_midnight() -> None:
    shift = shift_ending(local(2026, 1, 10, 7, 0), CHANGES)
    assert shift.start == local(2026, 1, 9, 19, 0)
    assert shift.end - shift.start == timedelta(hours=12)


def test_the_night_the_clocks_go_forward_is_eleven_hours() -> None:
    # 29 March 2026, 02:00 CET -> 03:00 CEST
    shift = shift_ending(local(2026, 3, 29, 7, 0), CHANGES)
    assert shift.start == local(2026, 3, 28, 19, 0)
    assert shift.end - shift.start == timedelta(hours=11)
    assert shift.end == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)


def test_the_night_the_clocks_go_back_is_thirteen_hours() -> None:
    # 25 October 2026, 03:00 CEST -> 02:00 CET
    shift = shift_ending(local(2026, 10, 25, 7, 0), CHANGES)
    assert shift.end - shift.start == timedelta(hours=13)
    assert shift.end == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
    day = shift_ending(local(2026, 10, 25, 19, 0), CHANGES)
    assert day.end - day.start == timedelta(hours=12)


def test_a_shift_change_at_the_hour_the_clocks_skip_still_happens_once() -> None:
    odd = (time(2, 30), time(14, 30))
    changes = [
        c
        for c in (
            last_change(local(2026, 3, 29, 12, 0), odd),
            next_change(local(2026, 3, 29, 0), odd),
        )
    ]
    assert changes[0] == changes[1]  # one 02:30 that day, whatever the clocks did
    assert is_change(changes[0], odd)


def test_the_handover_due_is_the_next_change_within_the_lead_else_the_last() -> None:
    lead = timedelta(minutes=60)
    assert due_change(local(2026, 6, 15, 18, 15), CHANGES, lead) == local(2026, 6, 15, 19, 0)
    assert due_change(local(2026, 6, 15, 17, 45), CHANGES, lead) == local(2026, 6, 15, 7, 0)
    assert due_change(local(2026, 6, 15, 19, 20), CHANGES, lead) == local(2026, 6, 15, 19, 0)


def test_shift_changes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITCEN_LOCAL_MODE", "true")
    monkeypatch.setenv("SITCEN_SHIFT_CHANGES", "19:00, 07:00,13:00")
    assert Settings().shift_changes == (time(7), time(13), time(19))
    for wrong in ("25:00", "", "07:00,07:00", "seven"):
        monkeypatch.setenv("SITCEN_SHIFT_CHANGES", wrong)
        with pytest.raises(ValidationError, match="SITCEN_SHIFT_CHANGES"):
            Settings()
