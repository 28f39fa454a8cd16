"""What runs in one instance of the service: built and started by the application's lifespan
(app.main), stopped when it ends, and reached by the routers through one dependency
(`app.api.deps.runtime`).

Each instance has its own database pool, its own hub of WebSocket clients fed by its own
listener on the change feed, its own cache of API keys, and, where alerting runs, its own alert
workers; the database is what they share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import cpu
from app.alerts.settings import AlertSettings, get_alert_settings
from app.alerts.workers.alerting import Alerting
from app.auth.keycache import KeyCache
from app.background import Loop
from app.cell import paging
from app.cell.directory_reminders import DirectoryReminders
from app.cell.overdue import OverdueTasks
from app.cell.triggers import ProcedureStarter
from app.clock import utcnow
from app.db import make_engine, make_sessionmaker
from app.documents.settings import DocumentSettings, get_document_settings
from app.documents.store import BlobStore, make_store
from app.domain.changes import unpublished_age
from app.domain.retention import FeedPruner
from app.exercises.runner import ExerciseRunner
from app.feeds.poller import FeedPoller
from app.metrics import Metrics
from app.planning.watch import ConflictWatcher
from app.privacy.purge import PersonalDataPurger, retention_of
from app.realtime.hub import Hub
from app.realtime.listener import DB_ERRORS, FeedListener
from app.realtime.protocol import CloseCode
from app.realtime.tilecache import TileCache
from app.reports import sitrep_send
from app.reports.handover import ShiftPolicy
from app.reports.handover_escalation import HandoverEscalations
from app.settings import Settings

log = logging.getLogger(__name__)

# How long the readiness probe waits for the database before calling it unreachable.
READY_TIMEOUT_SECONDS = 3.0


@dataclass
class Shutdown:
    """Where this instance is in its shutdown (app.server starts it on SIGTERM): `deadline`,
    in the event loop's time, is when everything still running is cancelled."""

    started: bool = False
    deadline: float | None = None
    workers: asyncio.Task[None] | None = None

    def remaining(self) -> float:
        if self.deadline is None:
            return 0.0
        return max(0.0, self.deadline - asyncio.get_running_loop().time())


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
    # Escalates overdue crisis-cell tasks through alerting (app.cell.overdue); None where
    # alerting does not run.
    overdue: OverdueTasks | None
    # Starts the checklists of standard procedures the feed's changes trigger (app.cell.triggers).
    procedures: ProcedureStarter
    # Flags conflicts of planned events, demonstrations and zones as changes create them
    # (app.planning.watch).
    conflicts: ConflictWatcher
    # Keeps the feed to SITCEN_FEED_RETENTION_DAYS (app.domain.retention); None: kept whole.
    pruner: FeedPruner | None
    # Blanks personal fields past their retention (app.privacy.purge); None: no retention set.
    purger: PersonalDataPurger | None
    # Reminds partners to confirm their directory entries, through alerting: None with it.
    directory_reminders: DirectoryReminders | None
    # The document library's settings and where it keeps the bytes (app.documents.store).
    document_settings: DocumentSettings
    document_store: BlobStore
    # Plays the running exercises' injects (app.exercises.runner): on every instance, each run
    # by one of them at a time.
    exercises: ExerciseRunner
    # This instance's Prometheus registry and instruments (app.metrics), read by /api/metrics.
    metrics: Metrics
    # Escalates shift handovers not acknowledged in time (app.reports); None without alerting.
    handover_escalations: HandoverEscalations | None = None
    # Vector tiles built, kept while no change of the feed meets them (app.realtime.tilecache).
    tile_cache: TileCache | None = None
    # Polls the external CAP feeds (app.feeds.poller); None where SITCEN_FEEDS_ENABLED is false.
    feeds: FeedPoller | None = None
    # SITCEN_READ_DATABASE_URL's engine (read-only transactions) and its sessions, for the
    # reads that need not see the latest writes (OGC API Features items, exports): None when
    # unset, and then `read_sessions` are the primary's `sessions`.
    read_engine: AsyncEngine | None = None
    read_sessions: async_sessionmaker[AsyncSession] | None = None
    shutdown: Shutdown = field(default_factory=Shutdown)

    @classmethod
    def build(cls, settings: Settings, metrics: Metrics | None = None) -> Runtime:
        metrics = metrics or Metrics(settings.ws_queue_size)
        engine = make_engine(settings, pool_wait=metrics.db_pool_wait.observe)
        sessions = make_sessionmaker(engine)
        read_engine = (
            make_engine(settings, pool_wait=metrics.db_pool_wait.observe, read_only=True)
            if settings.read_database_url
            else None
        )
        key_cache = KeyCache()
        hub = Hub(settings.ws_queue_size, metrics)
        paging.listen_for_acknowledgements()  # a page acknowledged moves its seat's presence
        sitrep_send.attach_to_alerts()  # a SITREP's e-mail carries its partner's PDF
        alert_settings = get_alert_settings()
        alerting = (
            Alerting(sessions, settings, alert_settings, hub, metrics)
            if alert_settings.enabled
            else None
        )
        overdue = (
            OverdueTasks(sessions, alert_settings, settings.task_overdue_poll_seconds, utcnow)
            if alerting is not None
            else None
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
        retention = retention_of(
            settings.personal_data_incident_days, settings.personal_data_logbook_entry_days
        )
        purger = (
            PersonalDataPurger(
                sessions,
                retention,
                interval_seconds=settings.personal_data_purge_interval_seconds,
                clock=utcnow,
            )
            if retention
            else None
        )
        reminders = (
            DirectoryReminders(sessions, settings, alert_settings, utcnow)
            if alert_settings.enabled
            else None
        )
        procedures = ProcedureStarter(sessions, utcnow, poll_seconds=settings.feed_poll_seconds)
        feed_listener = FeedListener(settings, sessions, hub, key_cache)
        feed_listener.followers.append(procedures.wake)
        conflicts = ConflictWatcher(sessions, utcnow, poll_seconds=settings.feed_poll_seconds)
        feed_listener.followers.append(conflicts.wake)
        tile_cache = TileCache(settings.tile_cache_mb * 2**20)
        feed_listener.observers.append(tile_cache.saw)
        document_settings = get_document_settings()
        handover_escalations = (
            HandoverEscalations(
                sessions,
                ShiftPolicy.of(settings),
                alert_settings,
                settings.handover_poll_seconds,
                utcnow,
            )
            if alerting is not None
            else None
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            read_engine=read_engine,
            read_sessions=make_sessionmaker(read_engine) if read_engine else sessions,
            key_cache=key_cache,
            hub=hub,
            feed_listener=feed_listener,
            alert_settings=alert_settings,
            alerting=alerting,
            overdue=overdue,
            procedures=procedures,
            conflicts=conflicts,
            pruner=pruner,
            purger=purger,
            directory_reminders=reminders,
            document_settings=document_settings,
            document_store=make_store(document_settings, sessions),
            exercises=ExerciseRunner(
                sessions, alert_settings, settings.exercise_poll_seconds, utcnow
            ),
            metrics=metrics,
            handover_escalations=handover_escalations,
            tile_cache=tile_cache,
            feeds=FeedPoller(engine, sessions, settings, utcnow)
            if settings.feeds_enabled
            else None,
        )

    @property
    def loops(self) -> list[Loop]:
        """Every background loop of this instance, for health and metrics (app.background)."""
        loops = [
            self.feed_listener.loop,
            self.procedures.loop,
            self.conflicts.loop,
            self.exercises.loop,
        ]
        if self.alerting is not None:
            loops += self.alerting.loops
        if self.overdue is not None:
            loops.append(self.overdue.loop)
        if self.pruner is not None:
            loops.append(self.pruner.loop)
        if self.purger is not None:
            loops.append(self.purger.loop)
        if self.directory_reminders is not None:
            loops.append(self.directory_reminders.loop)
        if self.handover_escalations is not None:
            loops.append(self.handover_escalations.loop)
        if self.feeds is not None:
            loops.append(self.feeds.loop)
        return loops

    async def start(self) -> None:
        cpu.start(self.settings.cpu_threads)
        # The listener first: alerting pushes through the hub it feeds.
        await self.feed_listener.start()
        if self.tile_cache is not None:
            self.tile_cache.begin(self.hub.head)
        if self.alerting is not None:
            await self.alerting.start()
        if self.overdue is not None:
            self.overdue.loop.start()
        self.procedures.loop.start()
        self.conflicts.loop.start()
        self.exercises.loop.start()
        if self.pruner is not None:
            self.pruner.loop.start()
        if self.purger is not None:
            self.purger.loop.start()
        if self.directory_reminders is not None:
            self.directory_reminders.loop.start()
        if self.handover_escalations is not None:
            self.handover_escalations.loop.start()
        if self.feeds is not None:
            self.feeds.start()

    async def readiness(self) -> str | None:
        """None if this instance should be sent traffic; else why not. Ready while it is not
        shutting down, its change-feed listener is connected, and the oldest change it has not
        yet handed to its WebSocket clients is at most SITCEN_READY_MAX_LAG_SECONDS old (the
        database must answer to tell), and the read database (SITCEN_READ_DATABASE_URL), when
        there is one, answers too: the OGC items and exports this instance serves are read
        there, so an instance that cannot reach it would fail them."""
        if self.shutdown.started:
            return "the instance is shutting down"
        if not self.feed_listener.listening:
            return "the change-feed listener is not connected to the database"
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS), self.sessions() as session:
                lag = await unpublished_age(session, self.hub.head)
        except DB_ERRORS:
            return "the database cannot be reached"
        if self.read_engine is not None and self.read_sessions is not None:
            try:
                async with asyncio.timeout(READY_TIMEOUT_SECONDS), self.read_sessions() as read:
                    await read.execute(text("SELECT 1"))
            except DB_ERRORS:
                return "the read database (SITCEN_READ_DATABASE_URL) cannot be reached"
        limit = self.settings.ready_max_lag_seconds
        if lag > limit:
            return f"the change feed is {lag:.1f} s behind on this instance (at most {limit:g} s)"
        return None

    async def drain(self, deadline: float) -> None:
        """The start of a graceful shutdown (app.server, on SIGTERM, once the listening socket
        is closed): not ready any more; every WebSocket client is told to reconnect elsewhere
        (1012) and its socket closed; the background workers finish the step under way (an
        alert being delivered is sent and recorded) while in-flight requests finish. All by
        `deadline` (the event loop's time)."""
        self.shutdown.started = True
        self.shutdown.deadline = deadline
        closed = self.hub.close_all(CloseCode.SERVER_RESTART)
        log.info("shutting down: %d WebSocket client(s) told to reconnect elsewhere", closed)
        self.shutdown.workers = asyncio.create_task(self._stop_workers(self.shutdown.remaining()))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                await self.hub.no_sockets.wait()

    async def _stop_workers(self, grace: float) -> None:
        """Every background loop but the feed listener's, each finishing its step under way
        for at most `grace` seconds."""
        loops = [
            self.procedures.loop,
            self.conflicts.loop,
            self.exercises.loop,
            *(
                worker.loop
                for worker in (
                    self.handover_escalations,
                    self.directory_reminders,
                    self.pruner,
                    self.purger,
                    self.overdue,
                )
                if worker is not None
            ),
        ]
        stops = [loop.stop(grace) for loop in loops]
        if self.feeds is not None:
            stops.append(self.feeds.stop(grace))
        if self.alerting is not None:
            stops.append(self.alerting.stop(grace))
        await asyncio.gather(*stops)

    async def stop(self) -> None:
        workers = self.shutdown.workers
        if workers is None:
            await self._stop_workers(0.0)
        else:
            # Started by drain(): waited for until the deadline, then cancelled.
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(workers), self.shutdown.remaining())
            if not workers.done():
                workers.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await workers
                await self._stop_workers(0.0)
        await self.feed_listener.stop()
        await self.engine.dispose()
        if self.read_engine is not None:
            await self.read_engine.dispose()
        cpu.stop()
