"""Alerting's workers in one app instance, started and stopped with its runtime (app.runtime):
the rule evaluator, the delivery worker, the escalation worker, and the listener that wakes them
and pushes alerts to this instance's WebSocket clients."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.channels.push import vapid_key
from app.alerts.lifecycle.service import NOTIFY_CHANNEL, NewAlert
from app.alerts.settings import AlertSettings
from app.alerts.workers.delivery import DeliveryWorker
from app.alerts.workers.escalation import EscalationWorker
from app.alerts.workers.evaluator import Evaluator
from app.alerts.workers.live import AlertPush, WebSocketAck
from app.background import Loop
from app.clock import utcnow
from app.domain.changes import NOTIFY_CHANNEL as CHANGES_CHANNEL
from app.metrics import Metrics
from app.realtime.hub import Hub
from app.realtime.listener import HEALTH_TIMEOUT_SECONDS, Listening
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
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = alert_settings
        self.push = AlertPush(sessions, hub)
        self.evaluator = Evaluator(
            sessions,
            alert_settings,
            utcnow,
            before_commit=self.push.expect,
            after_commit=self._raised,
        )
        self.delivery = DeliveryWorker(
            sessions,
            alert_settings,
            settings.secret_key,
            utcnow,
            vapid_key(settings.vapid_private_key, settings.vapid_subject),
            metrics,
        )
        self.escalation = EscalationWorker(sessions, alert_settings, utcnow)
        self._hub = hub
        self._ack = WebSocketAck(sessions)
        self._pushes: list[str] = []
        poll = alert_settings.poll_seconds
        # The dashboards reload the state when they reconnect: a push that fails loses nothing
        # durable, so its notifications are not tried again.
        self.push_loop = Loop("alerts-push", self._push_step, poll_seconds=poll)
        # Its poll is the health check of the connection.
        self.listen_loop = Loop("alerts-listen", self._listen_step, poll_seconds=poll * 5)
        self._listening = Listening(
            plain_url(settings.database_url or ""),
            APPLICATION_NAME,
            {CHANGES_CHANNEL: self._notified, NOTIFY_CHANNEL: self._notified},
            self.listen_loop.wake.set,
            self._lost,
        )
        self.listening = False

    @property
    def loops(self) -> list[Loop]:
        return [
            self.evaluator.loop,
            *self.delivery.loops,
            self.escalation.loop,
            self.listen_loop,
            self.push_loop,
        ]

    async def start(self) -> None:
        self._hub.ack_handler = self._ack
        for loop in self.loops:
            loop.start()

    async def stop(self, grace: float = 0.0) -> None:
        """`grace`: how long the steps under way (a delivery being sent) may take to finish."""
        self._hub.ack_handler = None
        await asyncio.gather(*(loop.stop(grace) for loop in self.loops))
        self._listening.close()
        await self.delivery.close()

    def status(self) -> dict[str, Any]:
        return {
            "listening": self.listening,
            "workers": {loop.name: loop.stats.running for loop in self.loops},
            "evaluated_batches": self.evaluator.batches,
            "sent": self.delivery.sent,
            "failed_attempts": self.delivery.failed,
            "pushed": self.push.pushed,
        }

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
        self._pushes.append(payload)
        self.push_loop.wake.set()

    async def _push_step(self) -> None:
        payloads, self._pushes = self._pushes, []
        if payloads:
            await self.push.handle(payloads)

    def _lost(self) -> None:
        self.listening = False

    async def _listen_step(self) -> None:
        async with self._listening.use() as (connection, fresh):
            if fresh:
                self.listening = True
                # What was written while nobody listened is picked up now.
                self._wake_all()
            else:
                await asyncio.wait_for(connection.execute("SELECT 1"), HEALTH_TIMEOUT_SECONDS)
