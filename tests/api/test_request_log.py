"""The request log (app.middleware.RequestLog, app.logs): one JSON line per request, read back
from a real server's log, under the id the answer gives in X-Request-Id; a line when a
WebSocket opens and one when it closes; the id on every line written during the request."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from pythonjsonlogger.orjson import OrjsonFormatter
from starlette.types import Message, Receive, Scope, Send

from app import errors
from app.logs import RequestIdFilter, TextFormatter, logging_config
from app.metrics import Metrics
from app.middleware import RequestLog
from app.settings import Settings
from tests.conftest import Server, eventually, incident, start_server, stop_server
from tests.realtime.conftest import Feed, token_for

GENERATED = re.compile(r"[0-9a-f]{32}")
PROXY = b"proxy-id-12345678"


@pytest.fixture(scope="module")
def logged(settings: Settings, server: Server) -> Iterator[Server]:
    """A server of its own writing a line per request (the session's logs warnings only). The
    session's server is started first: its users' tokens are good here too."""
    srv = start_server(settings, name="logged", log_level="info")
    srv.tokens = server.tokens
    yield srv
    stop_server(srv)


def json_lines(server: Server) -> list[dict[str, Any]]:
    text = server.log.read_text(errors="replace")
    return [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]


async def lines_of(server: Server, request_id: str, count: int = 1) -> list[dict[str, Any]]:
    """The lines of one request, once `count` of them are written (after the answer)."""

    def written() -> list[dict[str, Any]] | None:
        found = [line for line in json_lines(server) if line.get("request_id") == request_id]
        return found if len(found) >= count else None

    return await eventually(written, f"{count} log line(s) of request {request_id}")


async def test_each_request_has_one_json_line_under_the_id_its_answer_gives(
    logged: Server,
) -> None:
    headers = {"Authorization": f"Bearer {logged.tokens['op']}"}
    async with httpx.AsyncClient(base_url=logged.url, headers=headers, timeout=30) as op:
        created = await op.post("/api/incidents", json=incident("Journal"))
        assert created.status_code == 201
        object_id = created.json()["id"]
        read = await op.get(f"/api/incidents/{object_id}")
        assert read.status_code == 200
        missing = await op.get("/api/no-such-thing")
        assert missing.status_code == 404
    async with httpx.AsyncClient(base_url=logged.url, timeout=30) as anonymous:
        refused = await anonymous.get("/api/incidents")
        assert refused.status_code == 401

    rid = read.headers["X-Request-Id"]
    assert GENERATED.fullmatch(rid)
    ids = {r.headers["X-Request-Id"] for r in (created, read, missing, refused)}
    assert len(ids) == 4, "each request its own id"
    (line,) = await lines_of(logged, rid)
    assert line["logger"] == "sitcen.access" and line["level"] == "INFO" and line["time"]
    assert line["method"] == "GET"
    assert line["route"] == "/api/incidents/{object_id}"
    assert line["path"] == f"/api/incidents/{object_id}"
    assert line["status"] == 200
    assert line["principal"] == "op"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["client"] == "127.0.0.1"

    (post,) = await lines_of(logged, created.headers["X-Request-Id"])
    assert (post["method"], post["route"], post["status"]) == ("POST", "/api/incidents", 201)
    (unknown,) = await lines_of(logged, missing.headers["X-Request-Id"])
    assert (unknown["route"], unknown["status"]) == ("unmatched", 404)
    (anon,) = await lines_of(logged, refused.headers["X-Request-Id"])
    assert (anon["route"], anon["status"], anon["principal"]) == ("/api/incidents", 401, None)
    # uvicorn's own access log is off: one line per request, not two.
    assert not [x for x in json_lines(logged) if x["logger"] == "uvicorn.access"]


async def test_a_proxys_well_formed_request_id_is_kept_and_anything_else_replaced(
    logged: Server,
) -> None:
    nginx_id = "0af7651916cd43dd8448eb211c80319c"
    async with httpx.AsyncClient(base_url=logged.url, timeout=30) as c:
        kept = await c.get("/api/health", headers={"X-Request-Id": nginx_id})
        too_short = await c.get("/api/health", headers={"X-Request-Id": "abc"})
        odd = await c.get("/api/health", headers={"X-Request-Id": '{"level": "ERROR"}'})
        too_long = await c.get("/api/health", headers={"X-Request-Id": "a" * 200})
    assert kept.headers["X-Request-Id"] == nginx_id
    (line,) = await lines_of(logged, nginx_id)
    assert (line["route"], line["status"], line["principal"]) == ("/api/health", 200, None)
    for answer in (too_short, odd, too_long):
        assert GENERATED.fullmatch(answer.headers["X-Request-Id"])
        await lines_of(logged, answer.headers["X-Request-Id"])


async def test_a_websocket_has_a_line_when_it_opens_and_one_with_its_code_when_it_closes(
    logged: Server,
) -> None:
    feed = await Feed.open(logged.ws_url, await token_for(logged, "op"))
    assert (await feed.next())["type"] == "welcome"
    rid = feed.ws.response.headers["X-Request-Id"]
    await feed.close()

    # These two only: uvicorn's own lines of the handshake and the connection are left out.
    opened, closed = await lines_of(logged, rid, count=2)
    assert (opened["event"], opened["route"], opened["path"]) == ("open", "/ws", "/ws")
    assert (closed["event"], closed["code"], closed["principal"]) == ("close", 1000, "op")
    assert closed["duration_ms"] > 0


@contextmanager
def captured(*names: str) -> Iterator[list[logging.LogRecord]]:
    """The records these loggers write meanwhile, with the request id as the server's handler
    puts it on them."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    handler.addFilter(RequestIdFilter())
    loggers = [logging.getLogger(name) for name in names]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


async def test_every_line_written_during_a_request_carries_its_id() -> None:
    """The id is a context variable: lines of the request, and of a task it starts (as a
    WebSocket connection starts its sender), carry it; a line after it carries none."""
    log = logging.getLogger("tests.request")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        log.info("in the request")

        async def task() -> None:
            log.info("in a task the request started")

        await asyncio.create_task(task())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": [(b"x-request-id", PROXY)]}
    with captured("tests.request", "sitcen.access") as records:
        await RequestLog(app, Metrics())(scope, receive, send)
        log.info("after the request")

    assert (b"x-request-id", PROXY) in sent[0]["headers"]
    options = dict(logging_config("json", "info")["formatters"]["default"])
    del options["()"]
    as_json = OrjsonFormatter(**options)
    parsed = {r.getMessage(): orjson.loads(as_json.format(r)) for r in records}
    assert parsed["in the request"]["request_id"] == PROXY.decode()
    assert parsed["in the request"]["logger"] == "tests.request"
    assert parsed["in a task the request started"]["request_id"] == PROXY.decode()
    (access,) = [p for p in parsed.values() if p["logger"] == "sitcen.access"]
    assert (access["request_id"], access["route"], access["status"]) == (
        PROXY.decode(),
        "unmatched",
        204,
    )
    assert parsed["after the request"]["request_id"] is None
    # Local mode's plain lines carry the id too.
    assert f"[{PROXY.decode()}] tests.request: in the request" in TextFormatter().format(records[0])


async def test_an_unexpected_error_is_answered_and_logged_under_the_requests_id() -> None:
    """The 500 is answered outside the request log's middleware (Starlette's server-error
    middleware calls app.errors' handler): its answer and its traceback's line still carry the
    request's id, and the request's line says 500."""
    app = FastAPI()
    errors.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    registry = Metrics()
    app.add_middleware(RequestLog, metrics=registry)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with captured("app.errors", "sitcen.access") as records:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            r = await c.get("/boom", headers={"X-Request-Id": PROXY.decode()})

    assert r.status_code == 500 and r.headers["X-Request-Id"] == PROXY.decode()
    traceback = next(x for x in records if x.name == "app.errors")
    assert traceback.exc_info and traceback.request_id == PROXY.decode()  # type: ignore[attr-defined]
    access = next(x for x in records if x.name == "sitcen.access")
    assert (access.status, access.route) == (500, "/boom")  # type: ignore[attr-defined]
    body, _ = registry.exposition(None)
    assert b'route="/boom",status="500"' in body


async def test_text_format_writes_plain_lines_with_the_request_id(settings: Settings) -> None:
    """SITCEN_LOG_FORMAT=text (local mode's default): lines for a person at a terminal."""
    srv = start_server(
        settings, name="text-log", log_level="info", extra_env={"SITCEN_LOG_FORMAT": "text"}
    )
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
            r = await c.get("/api/health", headers={"X-Request-Id": PROXY.decode()})
        assert r.status_code == 200

        def line() -> str | None:
            text = srv.log.read_text(errors="replace")
            return next((x for x in text.splitlines() if PROXY.decode() in x), None)

        written = await eventually(line, "the request's line")
    finally:
        stop_server(srv)
    assert f"INFO    [{PROXY.decode()}] sitcen.access: GET /api/health 200 " in written
    assert not srv.log.read_text().lstrip().startswith("{")
