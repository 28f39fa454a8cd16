"""Bad hellos and bad messages: each gets its documented close code or error, and the server
stays healthy."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt
import orjson
import pytest
from websockets.asyncio.client import connect

from app.auth.roles import Role
from app.auth.service import create_api_key
from app.auth.tokens import ALGORITHM, decode_access_token
from app.db import transaction
from app.realtime.protocol import CloseCode
from tests.conftest import Identities, Server
from tests.realtime.conftest import Feed, close_of, open_feed, token_for, write


async def _refused(server: Server, first: str | bytes) -> tuple[int | None, str | None, list[Any]]:
    """Send one frame as the first message: the close code, its reason, and whatever else came."""
    async with connect(server.ws_url, compression=None, proxy=None) as ws:
        await ws.send(first)
        feed = Feed(ws)
        received: list[Any] = []
        feed.messages = received
        code, reason = await close_of(feed)
        return code, reason, received


def _hello(**fields: Any) -> str:
    return orjson.dumps({"type": "hello", **fields}).decode()


HELLO_TIMEOUT_SECONDS = 5.0  # the default of SITCEN_WS_HELLO_TIMEOUT_SECONDS

BAD_HELLOS = {
    "not JSON": ("hello?", CloseCode.BAD_HELLO, "not JSON"),
    "binary frame": (b'{"type":"hello"}', CloseCode.BAD_HELLO, "text frames"),
    "unknown type": ('{"type":"helo","token":"x"}', CloseCode.BAD_HELLO, "unknown message type"),
    "not a hello first": ('{"type":"ping"}', CloseCode.BAD_HELLO, "must be a hello"),
    "missing token": (_hello(), CloseCode.UNAUTHENTICATED, "token is missing"),
    "empty token": (_hello(token=""), CloseCode.UNAUTHENTICATED, "token is missing"),
    "bad token": (_hello(token="not-a-jwt"), CloseCode.UNAUTHENTICATED, "invalid token"),
    "negative since": (_hello(token="t", since=-1), CloseCode.BAD_HELLO, "since"),
    "bad bbox": (
        _hello(token="t", filter={"bbox": [4.4, 50.8, 4.3, 50.9]}),
        CloseCode.BAD_HELLO,
        "bbox",
    ),
    "unknown filter field": (
        _hello(token="t", filter={"colour": "red"}),
        CloseCode.BAD_HELLO,
        "filter.colour",
    ),
    "unknown severity": (
        _hello(token="t", filter={"min_severity": "huge"}),
        CloseCode.BAD_HELLO,
        "filter.min_severity",
    ),
    "unknown category": (
        _hello(token="t", filter={"categories": ["fir"]}),
        CloseCode.BAD_HELLO,
        "unknown category 'fir'",
    ),
}


@pytest.mark.parametrize("case", list(BAD_HELLOS))
async def test_bad_hello_is_closed_with_its_documented_code(server: Server, case: str) -> None:
    frame, expected_code, in_reason = BAD_HELLOS[case]
    code, reason, received = await _refused(server, frame)
    assert code == expected_code, reason
    assert in_reason in (reason or "")
    assert received == [], "an unauthenticated socket receives nothing but the close"


async def test_role_without_feed_permission_is_refused(
    server: Server, identities: Identities
) -> None:
    code, reason, received = await _refused(server, _hello(token=identities.keys["dispatch-a"]))
    assert code == CloseCode.FORBIDDEN, reason
    assert "dispatch" in (reason or "") and received == []


async def test_silent_socket_is_closed_unauthenticated_within_the_hello_timeout(
    server: Server,
) -> None:
    async with connect(server.ws_url, compression=None, proxy=None) as ws:
        feed = Feed(ws)
        async with asyncio.timeout(HELLO_TIMEOUT_SECONDS + 3):
            code, reason = await close_of(feed)
    assert code == CloseCode.HELLO_TIMEOUT, reason
    assert feed.messages == []


async def test_server_stays_healthy_after_bad_hellos(
    server: Server, client: httpx.AsyncClient
) -> None:
    for frame, _, _ in BAD_HELLOS.values():
        await _refused(server, frame)
    assert (await client.get("/api/health")).status_code == 200
    feed = await open_feed(server)
    assert (await feed.next())["type"] == "live"
    await write(client)
    assert (await feed.next())["type"] == "change"
    await feed.close()


async def test_bad_messages_after_hello_get_an_error_and_the_stream_goes_on(
    server: Server, client: httpx.AsyncClient
) -> None:
    feed = await open_feed(server)
    assert (await feed.next())["type"] == "live"
    await feed.send("{oops")
    assert await feed.next() == {
        "type": "error",
        "code": "bad_json",
        "message": "not JSON: send one JSON object per text frame",
    }
    await feed.send({"type": "bogus"})
    error = await feed.next()
    assert (error["type"], error["code"]) == ("error", "unknown_type")
    await feed.send({"type": "subscribe", "filter": {"min_severity": "huge"}})
    error = await feed.next()
    assert (error["code"], error["field"]) == ("invalid", "filter.min_severity")
    await feed.send({"type": "hello", "token": await token_for(server, "op")})
    assert (await feed.next())["code"] == "invalid"

    created = await write(client)
    change = await feed.next()
    assert change["type"] == "change" and change["id"] == created["id"]
    await feed.close()


async def test_hello_accepts_an_api_key_of_a_role_that_may_read_the_feed(
    server: Server, sessions: Any
) -> None:
    async with transaction(sessions) as session:
        _, key = await create_api_key(session, "wall-screen", Role.operator, actor="tests")
    async with connect(server.ws_url, compression=None, proxy=None) as ws:
        feed = Feed(ws)
        await feed.send({"type": "hello", "token": key})
        assert (await feed.next())["type"] == "welcome"


async def test_stream_is_closed_when_its_access_token_expires(
    extra_servers: Any, server: Server, settings: Any
) -> None:
    claims = decode_access_token(await token_for(server, "op"), settings)
    claims["exp"] = int(time.time()) + 2
    short_lived = jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)
    quick = await extra_servers("token-expiry", SITCEN_WS_PING_SECONDS="0.5")
    feed = await Feed.open(quick.ws_url, short_lived)
    feed.read_in_background()
    await feed.wait_for(lambda f: f.closed is not None)
    assert feed.closed is not None and feed.closed.rcvd is not None
    assert feed.closed.rcvd.code == CloseCode.UNAUTHENTICATED
    assert "token expired" in feed.closed.rcvd.reason
