"""The watch's shifts: the shift changes are local Brussels times of day (SITCEN_SHIFT_CHANGES,
e.g. 07:00 and 19:00), so a shift is 12 hours long on most days and 11 or 13 on the nights the
clocks change. Every instant here is aware and compared in UTC; the times of day are turned into
instants day by day with zoneinfo, which is what makes a shift right across a DST change.

A time of day the clocks skip (02:30 on the last Sunday of March) is taken as the instant the
clocks jump over it would have been with the winter offset, i.e. 03:30 summer time; one that
happens twice (02:30 on the last Sunday of October) is its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Europe/Brussels")


@dataclass(frozen=True)
class Shift:
    """One shift of the watch: from one shift change (exclusive) to the next (inclusive)."""

    start: datetime
    end: datetime


def _changes_on(day: date, changes: Sequence[time]) -> Iterator[datetime]:
    for t in changes:
        local = datetime.combine(day, t.replace(tzinfo=None), tzinfo=LOCAL_TIME)
        yield local.astimezone(UTC)


def _around(at: datetime, changes: Sequence[time]) -> list[datetime]:
    """The shift changes of the local days around `at`, in order (three days are enough for
    any list of times of day: a shift is never longer than a day plus an hour)."""
    day = at.astimezone(LOCAL_TIME).date()
    instants = {c for d in (-1, 0, 1, 2) for c in _changes_on(day + timedelta(days=d), changes)}
    return sorted(instants)


def last_change(at: datetime, changes: Sequence[time]) -> datetime:
    """The latest shift change at or before `at`."""
    return max(c for c in _around(at, changes) if c <= at)


def next_change(at: datetime, changes: Sequence[time]) -> datetime:
    """The first shift change strictly after `at`."""
    return min(c for c in _around(at, changes) if c > at)


def is_change(at: datetime, changes: Sequence[time]) -> bool:
    """Whether `at` is one of the shift changes."""
    return at in _around(at, changes)


def shift_ending(change: datetime, changes: Sequence[time]) -> Shift:
    """The shift that ends at a shift change: from the one before it."""
    return Shift(last_change(change - timedelta(microseconds=1), changes), change)


def due_change(now: datetime, changes: Sequence[time], lead: timedelta) -> datetime:
    """The shift change whose handover the watch is working on at `now`: the next one when it
    is at most `lead` away (the outgoing team prepares it), otherwise the last one (handed over
    and acknowledged, or late)."""
    coming = next_change(now, changes)
    return coming if coming - now <= lead else last_change(now, changes)


def local_label(at: datetime) -> str:
    """An instant as the watch reads it: Brussels local time."""
    return at.astimezone(LOCAL_TIME).strftime("%d/%m/%Y %H:%M")
