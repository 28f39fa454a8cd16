"""A small HTTP/1.1 client for webhooks: asyncio streams, keep-alive per origin, httptools to
read answers.

httpx costs 15-30 ms of CPU per request under concurrency on the reference machine (a known
limit, encode/httpx#3215): a hundred webhooks for one alert took seconds. A webhook needs one
thing — POST a body, read the status — and this does only that, about twenty times cheaper.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httptools

Origin = tuple[str, str, int]
_READ = 65_536


class HttpError(Exception):
    """The request could not be sent or its answer not read."""


@dataclass
class _Answer:
    parser: httptools.HttpResponseParser | None = None
    headers_done: bool = False
    keep_alive: bool = False
    complete: bool = False

    def on_headers_complete(self) -> None:
        self.headers_done = True
        # Asked here, as uvicorn does: once an answer with a body is complete, the parser has
        # reset and says False, and every webhook would pay a new connection (TLS included).
        assert self.parser is not None
        self.keep_alive = self.parser.should_keep_alive()

    def on_message_complete(self) -> None:
        self.complete = True


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def close(self) -> None:
        self.writer.close()


@dataclass
class WebhookClient:
    """POSTs with a bounded pool of idle connections per origin; redirects are answers."""

    max_idle: int = 32
    _idle: dict[Origin, list[_Connection]] = field(default_factory=dict)
    _tls: ssl.SSLContext = field(default_factory=ssl.create_default_context)

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> int:
        """The answer's status code; HttpError if there was none. The caller bounds the time
        (asyncio.timeout); a cancelled exchange closes its connection."""
        origin, target = _split(url)
        connection = self._take(origin)
        if connection is not None:
            try:
                return await self._exchange(origin, connection, target, headers, body)
            except HttpError as e:
                if not isinstance(e.__cause__, ConnectionError | asyncio.IncompleteReadError):
                    raise
                # The receiver had closed the idle connection: once more on a new one.
        connection = await self._open(origin)
        return await self._exchange(origin, connection, target, headers, body)

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    def _take(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if not connection.writer.is_closing() and not connection.reader.at_eof():
                return connection
            connection.close()
        return None

    def _give_back(self, origin: Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) < self.max_idle:
            idle.append(connection)
        else:
            connection.close()

    async def _open(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        try:
            reader, writer = await asyncio.open_connection(
                host, port, ssl=self._tls if scheme == "https" else None
            )
        except (OSError, ssl.SSLError) as e:
            raise HttpError(f"cannot connect to {host}:{port}: {e}") from e
        return _Connection(reader, writer)

    async def _exchange(
        self,
        origin: Origin,
        connection: _Connection,
        target: str,
        headers: dict[str, str],
        body: bytes,
    ) -> int:
        head = [f"POST {target} HTTP/1.1", f"Host: {_host_header(origin)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head.append(f"Content-Length: {len(body)}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        answer = _Answer()
        parser = answer.parser = httptools.HttpResponseParser(answer)
        try:
            connection.writer.write(request)
            await connection.writer.drain()
            while not answer.complete:
                data = await connection.reader.read(_READ)
                if not data:
                    if answer.headers_done:
                        break  # an answer delimited by the end of the connection
                    raise asyncio.IncompleteReadError(b"", None)
                parser.feed_data(data)
        except (OSError, asyncio.IncompleteReadError, httptools.HttpParserError) as e:
            connection.close()
            raise HttpError(f"{type(e).__name__}: {e}") from e
        except BaseException:
            connection.close()  # cancelled or timed out mid-exchange: the stream is unusable
            raise
        if answer.complete and answer.keep_alive:
            self._give_back(origin, connection)
        else:
            connection.close()
        return int(parser.get_status_code())


def _split(url: str) -> tuple[Origin, str]:
    if any(c in url for c in "\r\n\t "):
        raise HttpError("the URL holds whitespace")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HttpError(f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return (parts.scheme, parts.hostname, port), target


def _host_header(origin: Origin) -> str:
    scheme, host, port = origin
    default = 443 if scheme == "https" else 80
    host = f"[{host}]" if ":" in host else host
    return host if port == default else f"{host}:{port}"
