"""Alerting's workers in one app instance, started and stopped by the app's lifespan: the rule
evaluator, the delivery worker, the escalation worker, and the listener that wakes them and
pushes alerts to this instance's WebSocket clients."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

import asyncpg
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.delivery import DeliveryWorker
from app.alerts.escalation import EscalationWorker
from app.alerts.evaluator import Evaluator
from app.alerts.live import AlertPush, WebSocketAck
from app.alerts.service import NOTIFY_CHANNEL, NewAlert, utcnow
from app.alerts.settings import AlertSettings, get_alert_settings
from app.domain.changes import NOTIFY_CHANNEL as CHANGES_CHANNEL
from app.realtime.hub import Hub
from app.realtime.listener import DB_ERRORS, HEALTH_TIMEOUT_SECONDS, keep_listening
from app.settings import Settings, plain_url

log = logging.getLogger(__name__)
APPLICATION_NAME = "sitcen-alerts"


class Alerting:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        alert_settings: AlertSettings,
        hub: Hub,
    ) -> None:
        self.settings = alert_settings
        self._dsn = plain_url(settings.database_url or "")
        self.push = AlertPush(sessions, hub)
        self.evaluator = Evaluator(
            sessions,
            alert_settings,
            utcnow,
            before_commit=self.push.expect,
            after_commit=self._raised,
        )
        self.delivery = DeliveryWorker(sessions, alert_settings, settings.secret_key, utcnow)
        self.escalation = EscalationWorker(sessions, alert_settings, utcnow)
        self._hub = hub
        self._ack = WebSocketAck(sessions)
        self._pushes: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = False

    async def start(self) -> None:
        self._hub.ack_handler = self._ack
        self._tasks = [
            self._spawn(self.evaluator.run(), "alerts-evaluate"),
            self._spawn(self.delivery.run(), "alerts-deliver"),
            self._spawn(self.escalation.run(), "alerts-escalate"),
            self._spawn(self._keep_listening(), "alerts-listen"),
            self._spawn(self._push_loop(), "alerts-push"),
        ]

    async def stop(self) -> None:
        self._hub.ack_handler = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.delivery.close()

    def status(self) -> dict[str, Any]:
        return {
            "listening": self.listening,
            "workers": {t.get_name(): not t.done() for t in self._tasks},
            "evaluated_batches": self.evaluator.batches,
            "sent": self.delivery.sent,
            "failed_attempts": self.delivery.failed,
            "pushed": self.push.pushed,
        }

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)

        def done(t: asyncio.Task[None]) -> None:
            if not t.cancelled() and t.exception() is not None:
                log.error("alerts: worker %s stopped", name, exc_info=t.exception())

        task.add_done_callback(done)
        return task

    def _raised(self, raised: list[NewAlert]) -> None:
        self.delivery.wake.set()  # without waiting for the NOTIFY
        self.push.send_raised(raised)

    def _wake_all(self) -> None:
        self.evaluator.wake.set()
        self.delivery.wake.set()

    def _notified(self, _connection: Any, _pid: int, channel: str, payload: str) -> None:
        if channel == CHANGES_CHANNEL:
            self.evaluator.wake.set()
            return
        if not payload.startswith("delivery:"):
            self.delivery.wake.set()  # new deliveries: a new alert, an escalation, a retry
        self._pushes.put_nowait(payload)

    async def _push_loop(self) -> None:
        while True:
            payloads = [await self._pushes.get()]
            while not self._pushes.empty():
                payloads.append(self._pushes.get_nowait())
            try:
                await self.push.handle(payloads)
            except DB_ERRORS as e:
                # The dashboards reload the state when they reconnect; nothing durable is lost.
                log.warning("alerts: push of %d notifications failed (%s)", len(payloads), e)
            except Exception:
                log.exception("alerts: push of %d notifications failed", len(payloads))

    async def _keep_listening(self) -> None:
        await keep_listening(self._dsn, APPLICATION_NAME, self._listen, "alerts", self._lost)

    def _lost(self) -> None:
        self.listening = False

    async def _listen(self, connection: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        await connection.add_listener(CHANGES_CHANNEL, self._notified)
        await connection.add_listener(NOTIFY_CHANNEL, self._notified)
        self.listening = True
        # What was written while nobody listened is picked up now.
        self._wake_all()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self.settings.poll_seconds * 5)
                return
            await asyncio.wait_for(connection.execute("SELECT 1"), HEALTH_TIMEOUT_SECONDS)


async def start(app: FastAPI) -> None:
    """From the lifespan, after the realtime hub exists."""
    alert_settings = get_alert_settings()
    app.state.alert_settings = alert_settings
    app.state.alerting = None
    if not alert_settings.enabled:
        return
    alerting = Alerting(app.state.sessions, app.state.settings, alert_settings, app.state.hub)
    await alerting.start()
    app.state.alerting = alerting


async def stop(app: FastAPI) -> None:
    alerting: Alerting | None = getattr(app.state, "alerting", None)
    if alerting is not None:
        await alerting.stop()
