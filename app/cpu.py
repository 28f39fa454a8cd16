"""CPU-heavy work off the event loop: one bounded pool of threads per process.

A client's geometry (structure, validity, repair) can cost tens of milliseconds of Python and
GEOS. Run on the event loop, every other request and WebSocket client of the instance would
wait that long; run here, only its own request waits. GEOS releases the GIL while it works,
and Python hands the GIL back to the loop every few milliseconds, so the loop keeps answering.
The pool is bounded (`SITCEN_CPU_THREADS`): a burst of heavy requests queues for a thread
instead of taking every core from the loop and from PostgreSQL. Its threads also run at a lower
priority (nice +10, on Linux a thread's own): when cores are short, the loop, which serves
everyone, goes first.

What a thread runs must be bounded too (a cancelled request cannot stop a thread): the
geometry checks refuse, before any costly step, what would take long (app/geo/validation.py).
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_THREADS = 2
NICENESS = 10
_pool: ThreadPoolExecutor | None = None


def _lower_priority() -> None:
    # Linux keeps a nice value per thread; elsewhere this would lower the whole process.
    if sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


def start(threads: int) -> None:
    """Make this process's pool (the app's lifespan, with its setting)."""
    global _pool
    stop()
    _pool = ThreadPoolExecutor(
        max_workers=threads, thread_name_prefix="sitcen-cpu", initializer=_lower_priority
    )


def stop() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


async def run(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` in the pool; its exception, if any, is raised here. Commands and
    tests that call services without the server get a pool of the default size."""
    if _pool is None:
        start(DEFAULT_THREADS)
    assert _pool is not None
    return await asyncio.get_running_loop().run_in_executor(
        _pool, functools.partial(fn, *args, **kwargs)
    )
