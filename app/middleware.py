"""ASGI middleware: the request log and its id, the request's database session, request body
limit, text-only query strings, security headers."""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl

import anyio
from prometheus_client import Histogram
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import payload_too_large, problem_response, validation_problem
from app.logs import accept_request_id, request_id
from app.metrics import Metrics
from app.text import describe, first_bad_character

log = logging.getLogger(__name__)
access = logging.getLogger("sitcen.access")

SESSION_SCOPE_KEY = "sitcen.session"
# The request's read-only session (app.api.deps.get_read_session) when it has a read database.
READ_SESSION_SCOPE_KEY = "sitcen.read_session"


class RequestSession:
    """Closes the sessions an HTTP request made (app.api.deps.get_session, and get_read_session
    on the read database) once it is answered, whatever happened: the uncommitted is rolled
    back and the connections return to their pools.

    Why not a dependency with `yield`: FastAPI enters each one through an exit stack and a
    cancel scope, which cost about 0.2 ms of CPU per request, the price of a whole simple
    endpoint; this costs a dictionary lookup. Requests that never touch the database (the
    dashboard's files, health) make no session at all."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            for key in (SESSION_SCOPE_KEY, READ_SESSION_SCOPE_KEY):
                await self._close(scope.pop(key, None))

    @staticmethod
    async def _close(session: AsyncSession | None) -> None:
        if session is not None:
            # Shielded, as FastAPI shields a dependency's exit: a cancelled request must
            # still give its connection back clean.
            with anyio.CancelScope(shield=True):
                try:
                    await session.close()
                except Exception:
                    # The database went away after the answer (or its error) was made;
                    # the pool discards the connection. Raised from here it would only
                    # make uvicorn drop a kept-alive connection its client is reusing.
                    log.warning("could not close a request's session", exc_info=True)


class QueryText:
    """Refuse, with 400 naming the parameter, a query string carrying what no text holds
    (app/text.py): a `%00` would otherwise reach PostgreSQL, which cannot take it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query: bytes = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if b"%" in query:  # a control character can only arrive percent-encoded
            # Decoded as Starlette decodes it, so the check sees what the endpoints see.
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                in_name = first_bad_character(name)
                char = in_name or first_bad_character(value)
                if char is not None:
                    where = "(a parameter name)" if in_name else name
                    problem = validation_problem(
                        [{"loc": ["query", where], "msg": describe(char)}], status=400
                    )
                    await problem_response(problem, scope.get("path"))(scope, receive, send)
                    return
        await self.app(scope, receive, send)


class _TooLarge(HTTPException):
    """Raised by `receive` once a streamed (chunked) body passes the limit. An HTTPException,
    because FastAPI turns any other error met while reading a body into 400 "error parsing the
    body"; this one it lets through, to the app's problem handler (app/errors.py)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body exceeds {max_bytes} bytes")


class BodyLimit:
    """Refuse bodies over a limit with 413, whether announced by Content-Length or streamed.
    `streamed`: paths whose endpoints stream their body to storage, with their own limit."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        streamed: tuple[tuple[re.Pattern[str], int], ...] = (),
    ) -> None:
        self.app, self.default_bytes, self.streamed = app, max_bytes, streamed

    def _limit(self, path: str) -> int:
        return next((n for p, n in self.streamed if p.match(path)), self.default_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit(scope.get("path", ""))
        problem = payload_too_large(f"request body exceeds {max_bytes} bytes", max_bytes=max_bytes)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > max_bytes:
                await problem_response(problem, scope.get("path"))(scope, receive, send)
                return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise _TooLarge(max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await problem_response(problem, scope.get("path"))(scope, receive, send)


def content_security_policy(basemap_origin: str | None = None) -> str:
    """Everything from the server itself; with an online base map, its one origin too, for what
    MapLibre fetches from it (style, tiles, glyphs, sprites: fetch and images; its worker is a
    blob: script, allowed either way).

    `connect-src 'self'` admits the page's own /ws as well: since CSP Level 3, 'self' matches
    ws: and wss: on the page's own host and port (Chrome 71, Firefox, Safari 16). The bare
    schemes `ws: wss:` once written here let a script open a WebSocket to any host."""
    extra = f" {basemap_origin}" if basemap_origin else ""
    return (
        f"default-src 'self'; img-src 'self' data: blob:{extra}; "
        "style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; "
        f"connect-src 'self'{extra}; frame-ancestors 'none'"
    )


def security_headers(basemap_origin: str | None = None) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", content_security_policy(basemap_origin).encode()),
    ]


class SecurityHeaders:
    def __init__(self, app: ASGIApp, basemap_origin: str | None = None) -> None:
        self.app = app
        self.headers = security_headers(basemap_origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + self.headers
            await send(message)

        await self.app(scope, receive, with_headers)


# A method outside these is counted as "other": a client must not make label values at will.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REQUEST_ID_HEADER = b"x-request-id"


def route_template(scope: Scope) -> str:
    """The route the request matched, as declared (`/api/incidents/{object_id}`): a bounded
    set of values for the metrics' labels, where the path holds ids. `unmatched` for a 404."""
    route: BaseRoute | None = scope.get("route")
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    template = getattr(route, "path_format", None)
    return template if isinstance(template, str) else "unmatched"


def _principal(scope: Scope) -> str | None:
    """Who the request authenticated as (app.api.deps sets it on the request's state)."""
    principal: Any = scope.get("state", {}).get("principal")
    return principal.actor if principal is not None else None


class RequestLog:
    """One log line per HTTP request (method, route template, status, duration, principal,
    client) and a duration observation in the metrics; for a WebSocket, a line when it opens
    and one when it closes, with the close code. Each request has an id (the proxy's
    `X-Request-Id` when well-formed, else a new one), answered in `X-Request-Id` and carried by
    every log line written while it is handled (app.logs).

    Outermost, so that the duration covers every other middleware."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.duration = metrics.http_request_duration
        # Each (method, route, status)'s histogram child, found once: prometheus_client's
        # `labels()` takes a lock and costs several times the observation itself.
        self._children: dict[tuple[str, str, int], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == REQUEST_ID_HEADER), None)
        rid = accept_request_id(incoming)
        token = request_id.set(rid)
        if kind == "http":
            await self._http(scope, receive, send, rid.encode())
        else:
            await self._websocket(scope, receive, send, rid.encode())
        # Left set when the app raised: the server-error handler, outside, logs the traceback
        # and answers 500 under the same id (app.errors). Each request runs in a task of its
        # own, whose context ends with it.
        request_id.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, rid: bytes) -> None:
        start = time.perf_counter()
        status = 500  # unless an answer starts: the app raised before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, rid)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = route_template(scope)
            key = (method, route, status)
            child = self._children.get(key)
            if child is None:
                child = self._children[key] = self.duration.labels(method, route, str(status))
            child.observe(seconds)
            if access.isEnabledFor(logging.INFO):
                principal = _principal(scope)
                ms = round(seconds * 1000, 3)
                access.info(
                    "%s %s %d %.1f ms %s",
                    method,
                    route,
                    status,
                    ms,
                    principal or "-",
                    extra={
                        "method": method,
                        "route": route,
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": ms,
                        "principal": principal,
                        "client": _client(scope),
                    },
                )

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, rid: bytes) -> None:
        start = time.perf_counter()
        code: int | None = None  # the close code, whichever side closed first
        status: int | None = None  # an HTTP answer instead of the handshake (a refusal)

        async def receive_close() -> Message:
            nonlocal code
            message = await receive()
            if message["type"] == "websocket.disconnect" and code is None:
                code = message.get("code", 1005)
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal code, status
            kind = message["type"]
            if kind == "websocket.accept":
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, rid)]
                route = route_template(scope)
                access.info(
                    "WebSocket %s open",
                    route,
                    extra={
                        "route": route,
                        "event": "open",
                        "path": scope["path"],
                        "client": _client(scope),
                    },
                )
            elif kind == "websocket.close" and code is None:
                code = message.get("code", 1000)
            elif kind == "websocket.http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive_close, send_with_id)
        except Exception:
            code = code or 1011
            raise
        finally:
            seconds = time.perf_counter() - start
            principal = _principal(scope)
            route = route_template(scope)
            access.info(
                "WebSocket %s closed %s after %.1f s %s",
                route,
                code,
                seconds,
                principal or "-",
                extra={
                    "route": route,
                    "event": "close",
                    "path": scope["path"],
                    "code": code,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "principal": principal,
                    "client": _client(scope),
                },
            )


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None
