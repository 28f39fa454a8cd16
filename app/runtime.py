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
from app.cell import paging
from app.cell.directory_reminders import DirectoryReminders
from app.cell.overdue import OverdueTasks
from app.cell.triggers import ProcedureStarter
from app.clock import utcnow
from app.db import make_engine, make_sessionmaker
from app.documents.settings import DocumentSettings, get_document_settings
from app.documents.store import BlobStore, make_store
from app.domain.retention import FeedPruner
from app.exercises.runner import ExerciseRunner
from app.planning.watch import ConflictWatcher
from app.privacy.purge import PersonalDataPurger, retention_of
from app.realtime.hub import Hub
from app.realtime.listener import FeedListener
from app.realtime.tilecache import TileCache
from app.reports import sitrep_send
from app.reports.handover import ShiftPolicy
from app.reports.handover_escalation import HandoverEscalations
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
    # Escalates shift handovers not acknowledged in time (app.reports); None without alerting.
    handover_escalations: HandoverEscalations | None = None
    # Vector tiles built, kept while no change of the feed meets them (app.realtime.tilecache).
    tile_cache: TileCache | None = None

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings)
        sessions = make_sessionmaker(engine)
        key_cache = KeyCache()
        hub = Hub(settings.ws_queue_size)
        paging.listen_for_acknowledgements()  # a page acknowledged moves its seat's presence
        sitrep_send.attach_to_alerts()  # a SITREP's e-mail carries its partner's PDF
        alert_settings = get_alert_settings()
        alerting = (
            Alerting(sessions, settings, alert_settings, hub) if alert_settings.enabled else None
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
            handover_escalations=handover_escalations,
            tile_cache=tile_cache,
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

    async def stop(self) -> None:
        if self.handover_escalations is not None:
            await self.handover_escalations.loop.stop()
        if self.directory_reminders is not None:
            await self.directory_reminders.loop.stop()
        if self.pruner is not None:
            await self.pruner.loop.stop()
        if self.purger is not None:
            await self.purger.loop.stop()
        if self.overdue is not None:
            await self.overdue.loop.stop()
        await self.conflicts.loop.stop()
        await self.exercises.loop.stop()
        await self.procedures.loop.stop()
        if self.alerting is not None:
            await self.alerting.stop()
        await self.feed_listener.stop()
        await self.engine.dispose()
        cpu.stop()
