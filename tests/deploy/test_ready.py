"""`GET /api/ready`, the readiness probe a load balancer checks: 200 while the database answers
and this instance's change-feed listener is connected and within SITCEN_READY_MAX_LAG_SECONDS;
otherwise 503 problem+json saying why. Unauthenticated, like `/api/health`, and telling nothing
more than that."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE, RETRY_AFTER_SECONDS
from app.runtime import Runtime
from app.settings import Settings
from tests.api.test_database_outage import Relay, relayed  # noqa: F401 (a fixture)
from tests.conftest import Server, eventually
from tests.realtime.conftest import write


def _not_ready(response: httpx.Response) -> str:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    problem: dict[str, Any] = response.json()
    assert problem["title"] == "Not ready" and problem["status"] == 503
    assert problem["type"] == PROBLEM_TYPE_BASE + "not-ready"
    assert set(problem) <= {"type", "title", "status", "detail", "instance"}, problem
    return str(problem["detail"])


async def test_ready_answers_without_sign_in_and_tells_nothing_else(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as anonymous:
        r = await anonymous.get("/api/ready")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready"}


async def test_not_ready_while_the_database_is_cut_and_ready_again_after(
    relayed: tuple[Server, Relay],  # noqa: F811
) -> None:
    instance, relay = relayed
    async with httpx.AsyncClient(base_url=instance.url, timeout=30) as c:
        assert (await c.get("/api/ready")).status_code == 200
        await relay.cut()

        async def refused() -> str | None:
            r = await c.get("/api/ready")
            return _not_ready(r) if r.status_code == 503 else None

        detail = await eventually(refused, "the instance to say it is not ready")
        assert detail in {
            "the database cannot be reached",
            "the change-feed listener is not connected to the database",
        }, detail
        # Liveness is another question: the process is alive, the probe answered.
        assert instance.process.poll() is None

        await relay.open()

        async def ready() -> bool:
            return (await c.get("/api/ready")).status_code == 200

        await eventually(ready, "the instance ready again with the database back")


async def test_not_ready_while_the_feed_lags_past_the_limit(
    settings: Settings, server: Server, client: httpx.AsyncClient
) -> None:
    """A listener that stops handing changes to its clients (stuck, or far behind after an
    outage) makes its instance unready once the oldest change it has not published is older
    than the limit; it is ready again once it catches up."""
    runtime = Runtime.build(settings.model_copy(update={"ready_max_lag_seconds": 0.5}))
    listener = runtime.feed_listener
    await listener.start()
    try:
        await eventually(lambda: listener.listening, "the listener connected")
        assert await runtime.readiness() is None
        await listener.loop.stop()  # stuck: connected, but publishing nothing more
        assert listener.listening
        await write(client)

        async def behind() -> str | None:
            return await runtime.readiness()

        detail = await eventually(behind, "the lag to pass the limit")
        assert detail.startswith("the change feed is ") and "(at most 0.5 s)" in detail, detail

        listener.loop.start()

        async def caught_up() -> bool:
            return await runtime.readiness() is None

        await eventually(caught_up, "the listener to catch up")
    finally:
        await listener.stop()
        await runtime.engine.dispose()


async def test_not_ready_once_shutting_down(settings: Settings) -> None:
    runtime = Runtime.build(settings)
    await runtime.feed_listener.start()
    try:
        await eventually(lambda: runtime.feed_listener.listening, "the listener connected")
        assert await runtime.readiness() is None
        await runtime.drain(asyncio.get_running_loop().time() + 30)
        assert await runtime.readiness() == "the instance is shutting down"
    finally:
        await runtime.stop()
