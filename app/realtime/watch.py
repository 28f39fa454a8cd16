"""`sitcen watch`: follow the change feed over /ws, one line per change, resuming where it left.

The reference client of docs/realtime.md: hello with the last seq kept in a state file,
answer pings, reconnect with back-off on a drop, log in again when the token expires.
Changes go to stdout (one line each, for piping); everything else goes to stderr.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from app.realtime.protocol import CloseCode
from app.retry import backoff

# Closes that a reconnect cannot fix: the client or its role must change first.
FATAL = {CloseCode.BAD_HELLO, CloseCode.FORBIDDEN}


class WatchError(Exception):
    """A problem a reconnect cannot fix; the command exits with its message."""


@dataclass
class Credentials:
    """Where the token comes from: a login (refreshed when it expires) or SITCEN_TOKEN."""

    http_url: str
    username: str | None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    async def current(self) -> str:
        if self.token is None:
            self.token = await self._login()
        return self.token

    def expired(self) -> None:
        if self.username is None:
            raise WatchError("the token was refused or has expired; set a new SITCEN_TOKEN")
        self.token = None

    async def _login(self) -> str:
        if self.username is None:
            raise WatchError("give --username, or set SITCEN_TOKEN to an access token or API key")
        if self.password is None:
            self.password = os.environ.get("SITCEN_PASSWORD") or await asyncio.to_thread(
                getpass.getpass, f"password for {self.username}: "
            )
        async with httpx.AsyncClient(base_url=self.http_url, timeout=30) as client:
            r = await client.post(
                "/api/auth/token", data={"username": self.username, "password": self.password}
            )
        if r.status_code != 200:
            raise WatchError(f"login failed ({r.status_code}): {r.text[:200]}")
        return str(r.json()["access_token"])


class StateFile:
    """The last seq seen, kept across runs. Written after the line is printed: a crash in
    between prints that change again on resume (at least once), never skips it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> int | None:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return None
        return int(text) if text.isdigit() else None

    def save(self, seq: int) -> None:
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(f"{seq}\n")
        partial.replace(self.path)


def http_url_of(ws_url: str) -> str:
    """The HTTP base of the server of a ws(s)://host/…/ws URL."""
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme)
    if scheme is None:
        raise WatchError(f"not a WebSocket URL: {ws_url}")
    return urlunsplit((scheme, parts.netloc, parts.path.removesuffix("/ws"), "", ""))


def change_line(message: dict[str, Any]) -> str:
    """One change as one line: seq, time, what, reference, title, classification, who."""
    props = message.get("feature", {}).get("properties", {})
    grading = ", ".join(
        str(props[k]) for k in ("category", "kind", "level", "severity", "status") if props.get(k)
    )
    title = str(props.get("title") or "").replace("\n", " ")
    return (
        f"{message['seq']:>8} {message['at'][:19]} {message['entity']} {message['op']} "
        f"{props.get('ref', message['id'])} {title!r} ({grading}) by {message['by']}"
    )


class Watch:
    def __init__(
        self,
        url: str,
        credentials: Credentials,
        state: StateFile,
        entities: list[str] | None,
        out: TextIO,
        log: TextIO,
    ) -> None:
        self.url = url
        self.credentials = credentials
        self.state = state
        self.filter = {"entities": entities} if entities else {}
        self.out = out
        self.log = log
        self.since = state.load()

    async def run(self) -> None:
        delays: Iterator[float] = backoff(0.5, 30.0)
        while True:
            try:
                async with connect(self.url, proxy=None, open_timeout=10) as ws:
                    await self._session(ws)
                    delays = backoff(0.5, 30.0)
            except ConnectionClosed as e:
                self._closed(e)
            except (OSError, TimeoutError, InvalidHandshake) as e:
                self._say(f"cannot connect to {self.url}: {e}")
            except InvalidURI as e:
                raise WatchError(str(e)) from None
            delay = next(delays)
            self._say(f"reconnecting in {delay:.1f} s from seq {self.since}")
            await asyncio.sleep(delay)

    async def _session(self, ws: ClientConnection) -> None:
        hello = {
            "type": "hello",
            "token": await self.credentials.current(),
            "since": self.since,
            "filter": self.filter,
        }
        await ws.send(orjson.dumps(hello).decode())
        async for frame in ws:
            text = frame if isinstance(frame, str) else frame.decode()
            # A frame carries one or more messages, one per line.
            for line in text.split("\n"):
                await self._handle(ws, orjson.loads(line))

    async def _handle(self, ws: ClientConnection, message: dict[str, Any]) -> None:
        match message["type"]:
            case "change":
                print(change_line(message), file=self.out, flush=True)
                self._advance(message["seq"])
            case "ping":
                await ws.send('{"type":"pong"}')
                self._advance(message["seq"])
            case "welcome":
                self._say(f"connected to {self.url}, head {message['head']}")
            case "reset":
                self._say(f"reset: {message['reason']}; following from head {message['head']}")
                self._advance(message["head"])
            case "live":
                self._say(f"live from seq {message['seq']}")
                self._advance(message["seq"])
            case "error":
                self._say(f"server says: {message['message']}")

    def _advance(self, seq: int) -> None:
        # A filtered stream learns from `live` and pings how far it has come, so that its
        # resume point moves on even when nothing passes its filter.
        if self.since is None or seq > self.since:
            self.since = seq
            self.state.save(seq)

    def _closed(self, e: ConnectionClosed) -> None:
        code = e.rcvd.code if e.rcvd else None
        reason = e.rcvd.reason if e.rcvd else "connection lost"
        if code in FATAL:
            raise WatchError(f"refused by the server ({code}): {reason}")
        if code == CloseCode.UNAUTHENTICATED:
            self.credentials.expired()
        self._say(f"disconnected ({code}): {reason}")

    def _say(self, text: str) -> None:
        print(f"# {text}", file=self.log, flush=True)


async def watch(
    url: str, username: str | None, state_file: str, entities: list[str] | None
) -> None:
    """Entry point of `sitcen watch`; runs until interrupted (Ctrl-C, or SIGTERM from a
    service manager: both end it the same clean way)."""
    main = asyncio.current_task()
    if main is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        credentials = Credentials(http_url_of(url), username, token=os.environ.get("SITCEN_TOKEN"))
        if username:
            credentials.token = None
        await Watch(
            url, credentials, StateFile(Path(state_file)), entities, sys.stdout, sys.stderr
        ).run()
    except WatchError as e:
        sys.exit(f"sitcen watch: {e}")
    except asyncio.CancelledError:
        # The state file already holds the last seq printed.
        print("# stopped", file=sys.stderr)
