"""One client of the live stream (DESIGN §4, docs/realtime.md): its hello, its authentication,
then its replay and live frames until it goes or is cut off. `/ws` hands it the socket
(app.api.stream)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from typing import Any

from fastapi import WebSocket
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Message
from starlette.websockets import WebSocketDisconnect

from app.auth.keycache import KeyCache
from app.auth.permissions import may, scope_of
from app.auth.principal import Principal
from app.auth.tokens import authenticate, decode_access_token, is_api_key
from app.db import driver
from app.domain.changes import head, oldest_kept
from app.domain.visibility import Scope
from app.errors import ProblemError
from app.realtime import protocol
from app.realtime.feed import PAGE, read_after, replay_start
from app.realtime.hub import CONTROL_SLACK, Hub, Outbox, Subscriber
from app.realtime.listener import DB_ERRORS
from app.realtime.protocol import (
    Ack,
    ClientMessage,
    CloseCode,
    Hello,
    Ping,
    Pong,
    ProtocolError,
    Subscribe,
)
from app.realtime.selector import Selector
from app.settings import Settings

log = logging.getLogger(__name__)


class Refused(Exception):
    """The hello cannot be accepted: the socket is closed with `code` and nothing else is sent."""

    def __init__(self, code: CloseCode, detail: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class Gone(Exception):
    """The client went away before saying hello."""


class Connection:
    """One client socket: hello, then four tasks (sender, receiver, heartbeat, replay) until
    one of them, or the hub, ends it."""

    def __init__(
        self,
        websocket: WebSocket,
        hub: Hub,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        key_cache: KeyCache,
    ) -> None:
        self.ws = websocket
        self.hub = hub
        self.sessions = sessions
        self.settings = settings
        self.key_cache = key_cache
        self.scope = Scope()
        self.principal: Principal | None = None  # alerts hook (issue 7)
        self.expires_at: float | None = None  # time.time() when the access token expires
        self.heard_at = 0.0
        self.pinged_at: float | None = None

    async def run(self) -> None:
        self.hub.socket_opened()
        try:
            await self._run()
        finally:
            self.hub.socket_closed()

    async def _run(self) -> None:
        if self.hub.closed_with is not None:
            # Shutting down (app.runtime): the listening socket is closed, but a handshake
            # already under way gets here; the client is told to go elsewhere.
            await self.ws.accept()
            await self._close(*self.hub.closed_with)
            return
        await self.ws.accept()
        try:
            hello = await self._hello()
            principal = await self._authenticate(hello.token)
        except Refused as refused:
            await self._close(refused.code, refused.detail)
            return
        except Gone:
            return
        except DB_ERRORS:
            log.exception("realtime: authentication failed on a database error")
            await self._close(CloseCode.FEED_UNAVAILABLE)
            return
        self.scope = scope_of(principal)
        self.principal = principal  # alerts hook (issue 7)
        self.ws.state.principal = principal  # for the connection's log line (app.middleware)
        await self._serve(hello)

    async def _hello(self) -> Hello:
        timeout = self.settings.ws_hello_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                message = await self.ws.receive()
        except TimeoutError:
            raise Refused(CloseCode.HELLO_TIMEOUT, f"send a hello within {timeout:g} s") from None
        if message["type"] == "websocket.disconnect":
            raise Gone
        try:
            parsed = protocol.parse(_frame(message))
        except ProtocolError as e:
            if e.field == "token":
                raise Refused(CloseCode.UNAUTHENTICATED, "hello.token is missing") from None
            raise Refused(CloseCode.BAD_HELLO, e.message) from None
        if not isinstance(parsed, Hello):
            raise Refused(
                CloseCode.BAD_HELLO, f"the first message must be a hello, not {parsed.type}"
            )
        return parsed

    async def _authenticate(self, token: str) -> Principal:
        async with self.sessions() as session, session.begin():
            try:
                key = is_api_key(token)
                principal = await authenticate(
                    session,
                    self.settings,
                    self.key_cache,
                    api_key=token if key else None,
                    token=None if key else token,
                )
                if not key:
                    self.expires_at = float(decode_access_token(token, self.settings)["exp"])
            except ProblemError as e:
                raise Refused(CloseCode.UNAUTHENTICATED, e.detail) from None
        # The same permission table as GET /api/changes.
        if not may(principal, "changes:read"):
            raise Refused(CloseCode.FORBIDDEN, f"role {principal.role.value}")
        return principal

    async def _serve(self, hello: Hello) -> None:
        async with self.sessions() as session:
            db_head = await head(session)
            oldest = await oldest_kept(session)
        start, why = replay_start(hello.since, db_head, oldest)
        outbox = Outbox(self.settings.ws_queue_size)
        subscriber = Subscriber(Selector(hello.filter, self.scope), outbox, start, self.principal)
        outbox.offer(protocol.welcome(db_head, hello.filter, self.settings.ws_ping_seconds))
        if why:
            outbox.offer(protocol.reset(db_head, why))
        self.heard_at = time.monotonic()
        self.hub.attach(subscriber)
        tasks = [
            self._spawn(self._send(subscriber), subscriber),
            self._spawn(self._receive(subscriber), subscriber),
            self._spawn(self._heartbeat(subscriber), subscriber),
            self._spawn(self._replay(subscriber), subscriber),
        ]
        try:
            await subscriber.ended.wait()
        finally:
            self.hub.detach(subscriber)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if subscriber.end_code is not None:
            await self._close(subscriber.end_code, subscriber.end_detail)

    def _spawn(self, work: Coroutine[Any, Any, None], subscriber: Subscriber) -> asyncio.Task[None]:
        task = asyncio.create_task(work)

        def done(t: asyncio.Task[None]) -> None:
            if not t.cancelled() and t.exception() is not None:
                log.error("realtime: connection task failed", exc_info=t.exception())
                subscriber.end(CloseCode.FEED_UNAVAILABLE)

        task.add_done_callback(done)
        return task

    async def _send(self, subscriber: Subscriber) -> None:
        outbox, websocket, hub = subscriber.outbox, self.ws, self.hub
        depth = hub.send_queue_depth.observe
        try:
            while True:
                frame, count = await outbox.take()
                depth(count + len(outbox))  # what waited when this frame was taken
                await websocket.send_text(frame)
                hub.sent += count
                hub.frames += 1
        except (WebSocketDisconnect, OSError, RuntimeError):
            subscriber.end()

    async def _receive(self, subscriber: Subscriber) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                subscriber.end()
                return
            # Any message proves the client is alive, not only a pong.
            self.heard_at = time.monotonic()
            try:
                parsed = protocol.parse(_frame(message))
            except ProtocolError as e:
                self._reply(subscriber, protocol.error(e.code, e.message, e.field))
                continue
            # alerts hook (issue 7): acknowledgements are answered by app.alerts when it runs.
            ack = self.hub.ack_handler
            if isinstance(parsed, protocol.Ack) and ack and self.principal is not None:
                self._reply(subscriber, await ack(self.principal, parsed.alert))
                continue
            self._answer(subscriber, parsed)

    def _answer(self, subscriber: Subscriber, message: ClientMessage) -> None:
        match message:
            case Ping():
                self._reply(subscriber, protocol.PONG)
            case Subscribe():
                subscriber.selector = Selector(message.filter, self.scope)
                self._reply(subscriber, protocol.subscribed(message.filter, subscriber.cursor))
            case Hello():
                self._reply(
                    subscriber,
                    protocol.error(
                        "invalid", "already said hello; send subscribe to change the filter"
                    ),
                )
            case Ack():
                self._reply(
                    subscriber,
                    protocol.error(
                        "not_available", "alert acknowledgements over /ws are not available yet"
                    ),
                )
            case Pong():
                pass  # receiving it was the point

    def _reply(self, subscriber: Subscriber, frame: str) -> None:
        if not subscriber.outbox.offer(frame, CONTROL_SLACK):
            self.hub.drop_slow(subscriber)

    async def _heartbeat(self, subscriber: Subscriber) -> None:
        interval = self.settings.ws_ping_seconds
        while True:
            await asyncio.sleep(interval)
            if self.expires_at is not None and time.time() >= self.expires_at:
                subscriber.end(CloseCode.UNAUTHENTICATED, "token expired; reconnect with a new one")
                return
            if self.pinged_at is not None and self.heard_at < self.pinged_at:
                self.hub.dropped_ping += 1
                subscriber.end(CloseCode.NO_PONG)
                return
            self.pinged_at = time.monotonic()
            self._reply(subscriber, protocol.ping(subscriber.cursor))

    async def _replay(self, subscriber: Subscriber) -> None:
        """Bring the client from its start seq up to the hub, then hand it over to the hub."""
        try:
            while not self.hub.go_live(subscriber):
                async with self.sessions() as session:
                    items = await read_after(await driver(session), subscriber.cursor, PAGE)
                for item in items:
                    if item.seq != subscriber.cursor + 1:
                        # Pruned while this client replayed (the feed is gap-free otherwise):
                        # it resumes with its since, and is told to reset.
                        subscriber.end(CloseCode.FEED_UNAVAILABLE, "changes pruned meanwhile")
                        return
                    text = subscriber.selector.frame(item)
                    if text is not None:
                        await subscriber.outbox.put(text)
                    subscriber.cursor = item.seq
        except DB_ERRORS:
            log.warning("realtime: replay failed on a database error", exc_info=True)
            subscriber.end(CloseCode.FEED_UNAVAILABLE)
            return
        self._reply(subscriber, protocol.live(subscriber.cursor))

    async def _close(self, code: CloseCode, detail: str | None = None) -> None:
        # The client may be gone already; there is nobody left to tell.
        with contextlib.suppress(Exception):
            await self.ws.close(code, protocol.close_reason(code, detail))


def _frame(message: Message) -> str | bytes | None:
    text: str | None = message.get("text")
    return text if text is not None else message.get("bytes")
