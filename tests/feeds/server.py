"""A local feed server for the tests: serves feeds and CAP documents on 127.0.0.1, answers
conditional requests with 304, and can answer 503, go down (connection refused) and come back on
the same port."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from aiohttp import web

ATOM = "application/atom+xml"
RSS = "application/rss+xml"
CAP = "application/cap+xml"


@dataclass
class Hit:
    path: str
    status: int
    conditional: bool


@dataclass
class FeedServer:
    documents: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)  # body, type, date
    failing: int | None = None  # a status answered to every request (503: maintenance)
    stalled: asyncio.Event | None = None  # set: answers wait for it (a server that hangs)
    hits: list[Hit] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None
    _edits: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def publish(self, path: str, body: bytes, media_type: str) -> None:
        """A new version of a document: a new ETag and Last-Modified."""
        self._edits += 1
        modified = datetime(2026, 12, 7, 12, 0, self._edits % 60, tzinfo=UTC)
        self.documents[path] = (body, media_type, format_datetime(modified, usegmt=True))

    def hits_of(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    async def _handle(self, request: web.Request) -> web.Response:
        conditional = "If-None-Match" in request.headers or "If-Modified-Since" in request.headers
        if self.stalled is not None:
            await self.stalled.wait()
        if self.failing is not None:
            self.hits.append(Hit(request.path, self.failing, conditional))
            return web.Response(status=self.failing, text="service en maintenance")
        found = self.documents.get(request.path)
        if found is None:
            self.hits.append(Hit(request.path, 404, conditional))
            return web.Response(status=404)
        body, media_type, modified = found
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Last-Modified": modified}
        if request.headers.get("If-None-Match") == etag or (
            "If-None-Match" not in request.headers
            and request.headers.get("If-Modified-Since") == modified
        ):
            self.hits.append(Hit(request.path, 304, conditional))
            return web.Response(status=304, headers=headers)
        self.hits.append(Hit(request.path, 200, conditional))
        return web.Response(body=body, content_type=media_type, headers=headers)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        if not self.port:
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        """Down: the port refuses connections until `start` again."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
