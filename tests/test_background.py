"""The background loop's policy, on its own: nothing but cancellation ends it; a poisoned item
is tried again, then set aside; the database being away is waited out, never blamed on an
item."""

from __future__ import annotations

import asyncio
from typing import Any

from app.background import ItemFailed, Loop
from tests.conftest import eventually


async def test_an_unexpected_exception_is_counted_and_the_loop_goes_on() -> None:
    done: list[int] = []

    async def step() -> None:
        done.append(len(done))
        if len(done) == 1:
            raise KeyError("boom")

    loop = Loop("test", step, poll_seconds=60)
    loop.start()
    try:
        await eventually(lambda: len(done) >= 2, "the step after the failure")
        assert loop.stats.running and loop.stats.unexpected == 1 and loop.stats.steps == 1
        assert loop.stats.last_error == "KeyError: 'boom'"
    finally:
        await loop.stop()
    assert not loop.stats.running


async def test_a_poisoned_item_is_set_aside_after_three_attempts_and_the_next_one_goes() -> None:
    queue = ["good-1", "poison", "good-2"]
    handled: list[str] = []
    set_aside: list[tuple[Any, str, int]] = []

    async def step() -> float | None:
        if not queue:
            return None
        if queue[0] == "poison":
            raise ItemFailed("item poison", "poison", ValueError("cannot be handled"))
        handled.append(queue.pop(0))
        return 0.0

    async def aside(item: Any, error: BaseException, attempts: int) -> bool:
        set_aside.append((item, str(error), attempts))
        queue.remove(item)
        return True

    loop = Loop("test", step, poll_seconds=60, set_aside=aside, backoff_cap=0.05)
    loop.start()
    try:
        await eventually(lambda: handled == ["good-1", "good-2"], "the item after the poison")
        assert set_aside == [("poison", "cannot be handled", 3)]
        assert loop.stats.dead_letters == 1 and loop.stats.unexpected == 3
    finally:
        await loop.stop()


async def test_the_database_being_away_is_waited_out_and_never_counted_against_an_item() -> None:
    failures = 0
    aside: list[Any] = []

    async def step() -> None:
        nonlocal failures
        if failures < 5:
            failures += 1
            raise ItemFailed("item 1", 1, ConnectionRefusedError("connection refused"))

    async def set_aside(item: Any, error: BaseException, attempts: int) -> bool:
        aside.append(item)
        return True

    loop = Loop("test", step, poll_seconds=60, set_aside=set_aside, backoff_cap=0.05)
    loop.start()
    try:
        await eventually(lambda: loop.stats.steps == 1, "the step once the database is back")
        assert loop.stats.unreachable == 5 and loop.stats.unexpected == 0
        assert aside == [] and loop.stats.dead_letters == 0
    finally:
        await loop.stop()


async def test_a_wake_up_runs_a_step_before_the_poll_period() -> None:
    steps: list[float] = []

    async def step() -> None:
        steps.append(asyncio.get_running_loop().time())

    loop = Loop("test", step, poll_seconds=60)
    loop.start()
    try:
        await eventually(lambda: len(steps) == 1, "the first step, at start")
        loop.wake.set()
        await eventually(lambda: len(steps) == 2, "the step the wake-up asked for")
    finally:
        await loop.stop()


async def test_a_graceful_stop_lets_the_step_under_way_finish_and_starts_no_other() -> None:
    """An alert being delivered when the instance shuts down is sent and recorded."""
    started: list[int] = []
    finished: list[int] = []
    release = asyncio.Event()

    async def step() -> float:
        started.append(len(started))
        await release.wait()
        finished.append(len(finished))
        return 0.0  # more is waiting: without the stop, another step would follow at once

    loop = Loop("test", step, poll_seconds=60)
    loop.start()
    await eventually(lambda: started, "the first step")
    stopping = asyncio.create_task(loop.stop(grace=60))
    await asyncio.sleep(0.05)
    assert not stopping.done(), "the stop waits for the step under way"
    release.set()
    await asyncio.wait_for(stopping, 30)
    assert finished == [0] and started == [0], "it finished, and no other step started"
    assert not loop.stats.running


async def test_a_step_still_running_when_the_grace_ends_is_cancelled() -> None:
    cancelled = asyncio.Event()

    async def step() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    loop = Loop("test", step, poll_seconds=60)
    loop.start()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(loop.stop(grace=0.2), 30)
    assert cancelled.is_set() and not loop.stats.running
