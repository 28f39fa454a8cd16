"""What runs in one instance of the service: built and started by the application's lifespan
(app.main), stopped when it ends, and reached by the routers through one dependency
(`app.api.deps.runtime`).

Each instance has its own database pool, its own hub of WebSocket clients fed by its own
listener on the change feed, its own cache of API keys, and, where alerting runs, its own alert
workers; the database is what they share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import cpu
from app.alerts.settings import AlertSettings, get_alert_settings
from app.alerts.workers.alerting import Alerting
from app.auth.keycache import KeyCache
from app.background import Loop
from app.db import make_engine, make_sessionmaker
from app.domain.retention import FeedPruner
from app.realtime.hub import Hub
from app.realtime.listener import FeedListener
from app.settings import Settings


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # API keys checked lately; a revocation clears it here and, by NOTIFY, on the other
    # instances (app.auth.keycache).
    key_cache: KeyCache
    # This instance's WebSocket clients (app.realtime.hub), and what feeds them.
    hub: Hub
    feed_listener: FeedListener
    alert_settings: AlertSettings
    # The rule evaluator, delivery, escalation and push (app.alerts.workers.alerting); None where
    # SITCEN_ALERTS_ENABLED is false.
    alerting: Alerting | None
    # Keeps the feed to SITCEN_FEED_RETENTION_DAYS (app.domain.retention); None: kept whole.
    pruner: FeedPruner | None

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings)
        sessions = make_sessionmaker(engine)
        key_cache = KeyCache()
        hub = Hub(settings.ws_queue_size)
        alert_settings = get_alert_settings()
        alerting = (
            Alerting(sessions, settings, alert_settings, hub) if alert_settings.enabled else None
        )
        pruner = None
        if settings.feed_retention_days:
            pruner = FeedPruner(
                sessions,
                keep=timedelta(days=settings.feed_retention_days),
                interval_seconds=settings.feed_prune_interval_seconds,
                batch=settings.feed_prune_batch,
                keep_unevaluated=alert_settings.enabled,
                clock=lambda: datetime.now(UTC),
            )
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            key_cache=key_cache,
            hub=hub,
            feed_listener=FeedListener(settings, sessions, hub, key_cache),
            alert_settings=alert_settings,
            alerting=alerting,
            pruner=pruner,
        )

    @property
    def loops(self) -> list[Loop]:
        """Every background loop of this instance, for health and metrics (app.background)."""
        loops = [self.feed_listener.loop]
        if self.alerting is not None:
            loops += self.alerting.loops
        if self.pruner is not None:
            loops.append(self.pruner.loop)
        return loops

    async def start(self) -> None:
        cpu.start(self.settings.cpu_threads)
        # The listener first: alerting pushes through the hub it feeds.
        await self.feed_listener.start()
        if self.alerting is not None:
            await self.alerting.start()
        if self.pruner is not None:
            self.pruner.loop.start()

    async def stop(self) -> None:
        if self.pruner is not None:
            await self.pruner.loop.stop()
        if self.alerting is not None:
            await self.alerting.stop()
        await self.feed_listener.stop()
        await self.engine.dispose()
        cpu.stop()
