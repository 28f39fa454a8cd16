"""The webhook HTTP client against raw servers: answers with a length, chunked or delimited by
the close; keep-alive reuse; an idle connection the receiver closed; no answer at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from app.alerts.channels.http import HttpError, WebhookClient
from tests.rawhttp import read_message

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    def __init__(self, answer: bytes, close_after: bool = False) -> None:
        self.answer = answer
        self.close_after = close_after
        self.connections = 0
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                self.requests.append(await read_message(reader))
                writer.write(self.answer)
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Server], Awaitable[str]]]:
    servers: list[asyncio.Server] = []

    async def start(server: Server) -> str:
        s = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        servers.append(s)
        return f"http://127.0.0.1:{s.sockets[0].getsockname()[1]}/hooks/x?y=1"

    yield start
    for s in servers:
        s.close()


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    ],
    ids=["no body", "length", "chunked"],
)
async def test_keep_alive_connection_is_reused(
    serve: Callable[[Server], Awaitable[str]], answer: bytes
) -> None:
    server = Server(answer)
    url = await serve(server)
    client = WebhookClient()
    status = int(answer.split()[1])
    for _ in range(3):
        assert await client.post(url, {"X-Test": "1"}, b'{"a":1}') == status
    await client.aclose()
    assert server.connections == 1 and len(server.requests) == 3
    assert server.requests[0].startswith(b"POST /hooks/x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert server.requests[0].endswith(b'Content-Length: 7\r\n\r\n{"a":1}')


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
    ],
    ids=["length", "chunked", "until close"],
)
async def test_answers_of_every_framing_are_read(
    serve: Callable[[Server], Awaitable[str]], answer: bytes
) -> None:
    url = await serve(Server(answer, close_after=True))
    client = WebhookClient()
    assert await client.post(url, {}, b"{}") == 200
    assert await client.post(url, {}, b"{}") == 200, "a closed connection is not reused"
    await client.aclose()


async def test_redirect_is_an_answer_not_followed(
    serve: Callable[[Server], Awaitable[str]],
) -> None:
    url = await serve(
        Server(b"HTTP/1.1 302 Found\r\nLocation: http://x/\r\nContent-Length: 0\r\n\r\n")
    )
    client = WebhookClient()
    assert await client.post(url, {}, b"{}") == 302
    await client.aclose()


async def test_no_answer_and_refused_connection_are_errors(
    serve: Callable[[Server], Awaitable[str]],
) -> None:
    url = await serve(Server(b"", close_after=True))
    client = WebhookClient()
    with pytest.raises(HttpError):
        await client.post(url, {}, b"{}")
    with pytest.raises(HttpError):
        await client.post("http://127.0.0.1:9/hook", {}, b"{}")
    with pytest.raises(HttpError):
        await client.post("http://127.0.0.1/a b", {}, b"{}")
    await client.aclose()
