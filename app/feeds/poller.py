"""The feed poller: a background loop (app.background) that polls each source when it falls
due, reads the CAP messages its new entries carry or link, and ingests them through the CAP
ingest (app.alerts.lifecycle.ingest) as the source's own CAP feed.

- One instance polls at a time: the step holds a session-level advisory lock on a connection of
  its own, outside any transaction (a poll waits on the network; no transaction stays open
  meanwhile); the other instances find it taken and skip.
- Conditional requests (If-None-Match, If-Modified-Since): a 304 costs nothing more. The
  validators are kept only when every new entry was handled, so that a 304 never hides an entry
  whose CAP document could not be fetched.
- Exactly once: an entry already handled (same id, `updated` and content) is not fetched again,
  and a CAP message already received from this source changes nothing (the ingest's own record,
  app.alerts.lifecycle.cap_feed). Messages are applied in the order they were sent, so an Alert
  comes before the Update that references it, whatever order the feed lists them in.
- Each message in a transaction of its own: a message the ingest refuses (a CAP field wrong,
  an object changed since by someone else) is counted and named in the source's health; the
  others go in.
- Bounded: every request in time and size (app.feeds.fetch); a failing source is polled again
  at its interval doubled per consecutive failure, up to SITCEN_FEEDS_MAX_BACKOFF_SECONDS; the
  feed and CAP documents are parsed off the event loop (app.cpu).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from lxml import etree
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import cpu
from app.alerts.lifecycle import cap, cap_feed
from app.alerts.lifecycle.ingest import (
    INGESTED_STATUS,
    INGESTED_TYPES,
    Target,
    chosen_info,
    receive,
)
from app.auth.permissions import may
from app.auth.principal import Principal
from app.auth.roles import Role
from app.background import Loop, describe
from app.clock import Clock
from app.domain.enums import Entity, ZoneKind
from app.domain.enums import FeedOutside as Outside
from app.errors import ProblemError, database_unreachable, forbidden, malformed_cap
from app.feeds import fetch, parse
from app.feeds.models import FeedSource
from app.geo.reference import areas_for
from app.settings import Settings

log = logging.getLogger(__name__)

# pg_try_advisory_lock key: "feeds" in ASCII, recognisable in pg_locks.
FEEDS_LOCK = 0x6665656473
# Sources polled in one step at most; the others are due at the next.
DUE_BATCH = 50
# The longest backoff doubling: 2**10 intervals, beyond any sensible maximum.
MAX_DOUBLINGS = 10


@dataclass(frozen=True)
class Polled:
    """What a poll needs of its source, read before the network is touched."""

    id: uuid.UUID
    name: str
    url: str
    entity: str
    zone_kind: str | None
    municipalities: list[str]
    outside: str
    trust: str
    poll_seconds: int
    etag: str | None
    last_modified: str | None
    seen: list[str]

    @classmethod
    def of(cls, row: FeedSource) -> Polled:
        return cls(
            row.id,
            row.name,
            row.url,
            row.entity,
            row.zone_kind,
            list(row.municipalities),
            row.outside,
            row.trust,
            row.poll_seconds,
            row.etag,
            row.last_modified,
            list(row.seen),
        )


@dataclass
class Tally:
    ingested: int = 0
    ignored: int = 0
    rejected: int = 0
    last_rejection: str | None = None

    def reject(self, what: str) -> None:
        self.rejected += 1
        self.last_rejection = what[:1000]


@dataclass
class Gathered:
    """The CAP messages of a poll's new entries, and what could not be had."""

    messages: list[cap.CapMessage] = field(default_factory=list)
    handled: set[str] = field(default_factory=set)  # keys of entries read whole
    failures: list[str] = field(default_factory=list)


def principal_of(source: Polled) -> Principal:
    """Who writes what a source says: the source itself. Its name is its CAP feed (the
    namespace its messages' references are looked up in), and the objects it makes carry its
    trust in their `source`."""
    return Principal(
        kind="system",
        id=None,
        name=f"feed:{source.name}",
        role=Role.admin,
        source=f"feed:{source.trust}:{source.name}",
    )


class CapSchema:
    """The CAP 1.2 XML schema (SITCEN_FEEDS_CAP_SCHEMA), checked besides the ingest's own field
    checks. One validator, used by one pool thread at a time (lxml's validators keep their
    error log on themselves)."""

    def __init__(self, path: Path) -> None:
        self._schema = etree.XMLSchema(etree.parse(str(path)))
        self._lock = threading.Lock()
        self._parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

    def check(self, data: bytes) -> None:
        """After cap.parse (which refused any DTD and entity): a ProblemError when invalid."""
        document = etree.fromstring(data, parser=self._parser)
        with self._lock:
            if self._schema.validate(document):
                return
            error = self._schema.error_log.last_error
        where = f" (line {error.line})" if error is not None else ""
        raise malformed_cap(
            f"not valid against the CAP 1.2 schema{where}: {error.message if error else ''}"
        )


def parse_cap(data: bytes, schema: CapSchema | None) -> cap.CapMessage:
    """A CAP document of a feed, checked as POST /api/cap checks one, and against the schema
    when one is set. CPU work: run off the event loop."""
    message = cap.parse(data)
    if schema is not None:
        schema.check(data)
    return message


def _shape(raw: dict[str, Any]) -> BaseGeometry:
    geom = shape(raw)
    return geom if geom.is_valid else make_valid(geom)


class FeedPoller:
    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._settings = settings
        self._clock = clock
        self._http: httpx.AsyncClient | None = None
        # Read at start: a schema set but missing stops the start, not every poll.
        path = settings.feeds_cap_schema
        self._schema = CapSchema(path) if path is not None else None
        self.loop = Loop("feeds-poll", self._step, poll_seconds=settings.feeds_tick_seconds)
        self.wake = self.loop.wake

    def start(self) -> None:
        self._http = fetch.client(self._settings.feeds_timeout_seconds)
        self.loop.start()

    async def stop(self, grace: float = 0.0) -> None:
        await self.loop.stop(grace)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _step(self) -> float | None:
        async with self._engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if not await conn.scalar(select(func.pg_try_advisory_lock(FEEDS_LOCK))):
                return None  # another instance polls
            try:
                return await self.poll_due()
            finally:
                await conn.scalar(select(func.pg_advisory_unlock(FEEDS_LOCK)))

    async def poll_due(self) -> float | None:
        """Poll every source due; answer the seconds until the next falls due."""
        f = FeedSource
        async with self._sessions() as session:
            rows = await session.scalars(
                select(f)
                .where(
                    f.enabled.is_(True), (f.next_poll_at.is_(None)) | (f.next_poll_at <= func.now())
                )
                .order_by(f.next_poll_at.asc().nulls_first())
                .limit(DUE_BATCH)
            )
            due = [Polled.of(r) for r in rows]
        for source in due:
            await self.poll(source)
        async with self._sessions() as session:
            following = await session.scalar(
                select(func.min(f.next_poll_at)).where(f.enabled.is_(True))
            )
        if following is None:
            return None
        return max(0.5, (following - self._clock()).total_seconds())

    async def poll(self, source: Polled) -> None:
        settings = self._settings
        assert self._http is not None, "the poller is started before it polls"
        tally = Tally()
        try:
            fetched = await fetch.get(
                self._http,
                source.url,
                within=settings.feeds_timeout_seconds,
                max_bytes=settings.feeds_max_bytes,
                etag=source.etag,
                last_modified=source.last_modified,
            )
            if fetched.status == 304:
                await self._succeeded(source, tally, fetched, seen=None)
                return
            listed = await cpu.run(
                parse.entries, fetched.body, source.url, settings.feeds_max_entries
            )
            previous = set(source.seen)
            gathered = await self._gather([e for e in listed if e.key not in previous], tally)
            for message in sorted(gathered.messages, key=lambda m: m.sent):
                await self._ingest(source, message, tally)
            seen = [e.key for e in listed if e.key in previous or e.key in gathered.handled]
            if gathered.failures:
                problem = "; ".join(gathered.failures[:3])
                await self._failed(source, tally, fetched.status, problem, seen=seen)
            else:
                await self._succeeded(source, tally, fetched, seen=seen)
        except fetch.FetchFailed as e:
            await self._failed(source, tally, e.status, str(e))
        except parse.FeedInvalid as e:
            await self._failed(source, tally, 200, f"the feed cannot be read: {e}")
        except Exception as e:
            if database_unreachable(e):
                raise
            log.exception("feeds: polling %s failed", source.name)
            await self._failed(source, tally, None, describe(e))

    async def _gather(self, fresh: list[parse.Entry], tally: Tally) -> Gathered:
        assert self._http is not None
        gathered = Gathered()
        for entry in fresh:
            documents = list(entry.inline)
            try:
                for url in entry.links:
                    got = await fetch.get(
                        self._http,
                        url,
                        within=self._settings.feeds_timeout_seconds,
                        max_bytes=cap.MAX_BYTES,
                    )
                    documents.append(got.body)
            except fetch.FetchFailed as e:
                gathered.failures.append(f"entry {entry.id[:200]}: {e}")
                continue
            for data in documents:
                try:
                    gathered.messages.append(await cpu.run(parse_cap, data, self._schema))
                except ProblemError as e:
                    tally.reject(f"entry {entry.id[:200]}: {e.detail}")
            gathered.handled.add(entry.key)
        return gathered

    async def _ingest(self, source: Polled, message: cap.CapMessage, tally: Tally) -> None:
        if message.status not in INGESTED_STATUS or message.msg_type not in INGESTED_TYPES:
            tally.ignored += 1  # a Test, a System message, an Ack: nothing for the picture
            return
        principal = principal_of(source)
        try:
            async with self._sessions() as session, session.begin():
                outcome = await self._apply(session, source, principal, message)
        except ProblemError as e:
            if e.kind == "cap-unknown-reference":
                # A Cancel of a message not taken (outside the area, or before the source was
                # configured): nothing to cancel.
                tally.ignored += 1
                return
            tally.reject(f"{message.sender},{message.identifier}: {e.detail}")
            return
        if outcome == "ingested":
            tally.ingested += 1
        elif outcome == "ignored":
            tally.ignored += 1

    async def _apply(
        self,
        session: AsyncSession,
        source: Polled,
        principal: Principal,
        message: cap.CapMessage,
    ) -> str:
        feed = cap_feed.feed_of(principal)
        await cap_feed.lock(session, feed)
        if await cap_feed.earlier(session, feed, (message.sender, message.identifier)):
            return "again"
        refs = [cap.reference_key(r) for r in message.references]
        known = bool(refs) and bool(await cap_feed.named(session, feed, refs))
        # What would make a new object is first placed: outside the area, it may be ignored.
        if (
            message.msg_type != "Cancel"
            and not known
            and source.outside == Outside.ignore
            and not await self._concerns(session, source, message)
        ):
            return "ignored"

        async def authorise(action: str) -> None:
            if not may(principal, action):
                raise forbidden(f"{principal.actor} may not {action}", action)

        zone_kind = ZoneKind(source.zone_kind) if source.zone_kind else None
        await receive(
            session, message, Target(Entity(source.entity), zone_kind), principal, authorise
        )
        return "ingested"

    async def _concerns(
        self, session: AsyncSession, source: Polled, message: cap.CapMessage
    ) -> bool:
        """Whether the message's area touches the Region (or the source's municipalities)."""
        _, info = chosen_info(message)
        raw = cap.geojson_of(info.areas[0]) if info.areas else None
        if raw is None:
            return True  # the ingest refuses it, saying what is missing
        areas = await areas_for(session, await cpu.run(_shape, raw))
        codes = {m["code"] for m in areas["municipalities"]}
        return bool(codes & set(source.municipalities)) if source.municipalities else bool(codes)

    async def _succeeded(
        self, source: Polled, tally: Tally, fetched: fetch.Fetched, seen: list[str] | None
    ) -> None:
        now = self._clock()
        values: dict[str, Any] = {
            "last_success_at": now,
            "failures": 0,
            "next_poll_at": now + timedelta(seconds=source.poll_seconds),
        }
        if fetched.status == 200:
            values.update(etag=fetched.etag, last_modified=fetched.last_modified)
        if seen is not None:
            values["seen"] = seen
        await self._save(source, tally, fetched.status, values)

    async def _failed(
        self,
        source: Polled,
        tally: Tally,
        status: int | None,
        error: str,
        seen: list[str] | None = None,
    ) -> None:
        now = self._clock()
        log.warning("feeds: %s: %s", source.name, error)
        async with self._sessions() as session:
            failures = await session.scalar(
                select(FeedSource.failures).where(FeedSource.id == source.id)
            )
        doublings = min((failures or 0) + 1, MAX_DOUBLINGS)
        wait = min(source.poll_seconds * 2**doublings, self._settings.feeds_max_backoff_seconds)
        values: dict[str, Any] = {
            "last_error_at": now,
            "last_error": error[:1000],
            "failures": FeedSource.failures + 1,
            "next_poll_at": now + timedelta(seconds=max(wait, source.poll_seconds)),
        }
        if seen is not None:
            # What was handled stays handled; the validators are dropped, so that the next
            # poll reads the whole document again and retries what failed.
            values.update(seen=seen, etag=None, last_modified=None)
        await self._save(source, tally, status, values)

    async def _save(
        self, source: Polled, tally: Tally, status: int | None, values: dict[str, Any]
    ) -> None:
        f = FeedSource
        values.update(
            last_polled_at=self._clock(),
            last_status=status,
            messages_ingested=f.messages_ingested + tally.ingested,
            messages_ignored=f.messages_ignored + tally.ignored,
            messages_rejected=f.messages_rejected + tally.rejected,
        )
        if tally.last_rejection is not None:
            values["last_rejection"] = tally.last_rejection
        async with self._sessions() as session, session.begin():
            # A source changed meanwhile (its URL) has had its validators reset: keep them so.
            await session.execute(
                update(f).where(f.id == source.id, f.url == source.url).values(**values)
            )
