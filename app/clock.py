"""The service's one clock: now, in UTC. Workers take a `Clock` so that tests can inject theirs
(escalation deadlines, retention, the evaluator)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)
