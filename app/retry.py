"""Reconnect delays shared by the background loops (app.background) and the watch client."""

from __future__ import annotations

import random
from collections.abc import Iterator


def backoff(base: float = 0.1, cap: float = 10.0) -> Iterator[float]:
    """Exponential delays with jitter, so that instances and clients do not retry in lockstep."""
    delay = base
    while True:
        yield delay * random.uniform(0.5, 1.0)
        delay = min(cap, delay * 2)
