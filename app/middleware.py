"""ASGI middleware: the request's database session, request body limit, text-only query
strings, security headers."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

import anyio
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import payload_too_large, problem_response, validation_problem
from app.text import describe, first_bad_character

log = logging.getLogger(__name__)

SESSION_SCOPE_KEY = "sitcen.session"


class RequestSession:
    """Closes the session an HTTP request made (app.api.deps.get_session) once it is answered,
    whatever happened: the uncommitted is rolled back and the connection returns to the pool.

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
            session: AsyncSession | None = scope.pop(SESSION_SCOPE_KEY, None)
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
