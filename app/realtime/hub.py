"""The hub: fans each change out to the clients it concerns, never waiting for any of them.

Each client has an Outbox, a bounded queue of serialised messages drained by that client's own
sender task. The hub only appends; a client whose outbox is full is cut off with 4008 and resumes
from its last seq, so one slow or dead client costs the others nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass

from app.auth.principal import Principal
from app.metrics import Metrics
from app.realtime.feed import FeedItem
from app.realtime.protocol import CloseCode
from app.realtime.selector import Selector

# Replies to a client's own requests (pong, subscribed, error) may exceed the bound by this
# much, so that answering a request never cuts a client that keeps up with the changes.
CONTROL_SLACK = 16
# Messages that wait are sent together, one per line, in frames of up to this many characters.
FRAME_CHARS = 64 * 1024
LAG_SAMPLES = 10_000


class Outbox:
    """A bounded FIFO of serialised messages for one client: appended without waiting, drained
    by that client's sender task."""

    __slots__ = ("_limit", "_messages", "_ready", "_space")

    def __init__(self, limit: int) -> None:
        self._messages: deque[str] = deque()
        self._limit = limit
        self._ready = asyncio.Event()
        self._space = asyncio.Event()

    def __len__(self) -> int:
        return len(self._messages)

    def offer(self, message: str, slack: int = 0) -> bool:
        """Append unless the outbox is full; False means the client has fallen behind."""
        if len(self._messages) >= self._limit + slack:
            return False
        self._messages.append(message)
        self._ready.set()
        return True

    async def put(self, message: str) -> None:
        """Append once there is room: a replay goes at the pace its client reads."""
        while len(self._messages) >= self._limit:
            self._space.clear()
            await self._space.wait()
        self.offer(message)

    async def take(self, max_chars: int = FRAME_CHARS) -> tuple[str, int]:
        """The text of the next frame and how many messages it carries: one message when the
        client keeps up; when messages wait, as many as fit, one per line. A client that fell
        behind catches up with fewer frames, each costing the server one send."""
        messages = self._messages
        while not messages:
            self._ready.clear()
            await self._ready.wait()
        first = messages.popleft()
        if not messages or len(first) >= max_chars:
            frame, count = first, 1
        else:
            batch, size = [first], len(first)
            while messages and size + len(messages[0]) < max_chars:
                size += len(messages[0]) + 1
                batch.append(messages.popleft())
            frame, count = "\n".join(batch), len(batch)
        if len(messages) < self._limit:
            self._space.set()
        return frame, count


class Subscriber:
    """One client as the hub sees it: its selector, outbox and cursor (the last seq it has
    been brought up to, whether or not that change passed its filter)."""

    __slots__ = ("cursor", "end_code", "end_detail", "ended", "outbox", "principal", "selector")

    def __init__(
        self, selector: Selector, outbox: Outbox, cursor: int, principal: Principal | None = None
    ) -> None:
        self.selector = selector
        self.outbox = outbox
        self.cursor = cursor
        self.principal = principal  # alerts hook (issue 7): who the client is
        self.ended = asyncio.Event()
        self.end_code: CloseCode | None = None
        self.end_detail: str | None = None

    def end(self, code: CloseCode | None = None, detail: str | None = None) -> None:
        """Ask the connection to finish, closing with `code` (None: the client went away)."""
        if not self.ended.is_set():
            self.end_code = code
            self.end_detail = detail
            self.ended.set()

    def deliver(self, item: FeedItem) -> bool:
        """Queue one live change; False if the outbox is full."""
        if item.seq <= self.cursor:
            return True  # already replayed from the database
        self.cursor = item.seq
        text = self.selector.frame(item)
        return text is None or self.outbox.offer(text)


@dataclass
class HubMetrics:
    connected: int
    replaying: int
    queue_depth_max: int
    queue_depth_sum: int
    head: int
    published: int
    sent: int
    frames: int
    dropped_slow: int
    dropped_ping: int
    publish_lag_ms_p50: float
    publish_lag_ms_p99: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


# alerts hook (issue 7): answers a client's {"type":"ack","alert":id} with the frame to send back.
AckHandler = Callable[[Principal, str], Awaitable[str]]


class Hub:
    """Clients of this app instance. A client starts `replaying` (catching up from the
    database by itself) and becomes `live` once it has caught up with what the hub published."""

    def __init__(self, queue_size: int, metrics: Metrics | None = None) -> None:
        self.queue_size = queue_size
        # Observed by each client's sender (app.realtime.ws): the messages its outbox held.
        self.send_queue_depth = (metrics or Metrics(queue_size)).ws_send_queue_depth
        self.ack_handler: AckHandler | None = None  # alerts hook (issue 7), set by app.alerts
        self.head = 0  # seq of the last change published; set by the listener at start
        # WebSockets open on this instance, from accept to close frame (hello phase included):
        # a shutdown waits for them to be closed (app.runtime).
        self.sockets = 0
        self.no_sockets = asyncio.Event()
        self.no_sockets.set()
        self.closed_with: tuple[CloseCode, str | None] | None = None
        self._live: set[Subscriber] = set()
        self._replaying: set[Subscriber] = set()
        self.published = 0
        self.sent = 0  # messages
        self.frames = 0  # WebSocket frames carrying them
        self.dropped_slow = 0
        self.dropped_ping = 0
        # Commit-to-publish time of the latest changes: how far this instance's fan-out
        # trails the database, before any client's own delay.
        self._lags: deque[float] = deque(maxlen=LAG_SAMPLES)

    def attach(self, subscriber: Subscriber) -> None:
        if self.closed_with is not None:  # shutting down: sent away at once
            subscriber.end(*self.closed_with)
            return
        self._replaying.add(subscriber)

    def socket_opened(self) -> None:
        self.sockets += 1
        self.no_sockets.clear()

    def socket_closed(self) -> None:
        self.sockets -= 1
        if not self.sockets:
            self.no_sockets.set()

    def close_all(self, code: CloseCode, detail: str | None = None) -> int:
        """End every client's connection with `code`, and any that attaches from now on (the
        instance is shutting down); how many were ended."""
        self.closed_with = (code, detail)
        subscribers = (*self._live, *self._replaying)
        for subscriber in subscribers:
            subscriber.end(code, detail)
        return len(subscribers)

    def detach(self, subscriber: Subscriber) -> None:
        self._replaying.discard(subscriber)
        self._live.discard(subscriber)

    def go_live(self, subscriber: Subscriber) -> bool:
        """Switch to live delivery if the subscriber's cursor has reached what the hub
        published; False: read the database further first. No await between the check and
        the switch, so no change can slip between replay and live."""
        if subscriber.cursor < self.head:
            return False
        self._replaying.discard(subscriber)
        self._live.add(subscriber)
        return True

    def publish(self, items: Iterable[FeedItem]) -> None:
        slow: list[Subscriber] = []
        now = time.time()
        for item in items:
            self.head = item.seq
            self.published += 1
            self._lags.append(now - item.at)
            for subscriber in self._live:
                if not subscriber.deliver(item):
                    slow.append(subscriber)
            for subscriber in slow:
                self.drop_slow(subscriber)
            slow.clear()

    def send_each(self, frames_for: Callable[[Principal], Sequence[str]]) -> int:
        """Alerts hook (issue 7): in one pass over the connected clients (live or replaying),
        queue for each the pre-serialised frames `frames_for` its principal, without waiting;
        how many were queued."""
        sent = 0
        for subscriber in (*self._live, *self._replaying):
            if subscriber.principal is None:
                continue
            for frame in frames_for(subscriber.principal):
                if not subscriber.outbox.offer(frame, CONTROL_SLACK):
                    self.drop_slow(subscriber)
                    break
                sent += 1
        return sent

    def end_where(self, wanted: Callable[[Principal], bool], code: CloseCode, detail: str) -> int:
        """Close the sockets of matching principals (a user disabled or given another role)."""
        ended = 0
        for subscriber in (*self._live, *self._replaying):
            if subscriber.principal is not None and wanted(subscriber.principal):
                subscriber.end(code, detail)
                ended += 1
        return ended

    def drop_slow(self, subscriber: Subscriber) -> None:
        if subscriber.ended.is_set():
            return
        self.detach(subscriber)
        subscriber.end(CloseCode.TOO_SLOW)
        self.dropped_slow += 1

    def metrics(self) -> HubMetrics:
        depths = [len(s.outbox) for s in (*self._live, *self._replaying)]
        return HubMetrics(
            connected=len(depths),
            replaying=len(self._replaying),
            queue_depth_max=max(depths, default=0),
            queue_depth_sum=sum(depths),
            head=self.head,
            published=self.published,
            sent=self.sent,
            frames=self.frames,
            dropped_slow=self.dropped_slow,
            dropped_ping=self.dropped_ping,
            publish_lag_ms_p50=_percentile(self._lags, 0.50) * 1000,
            publish_lag_ms_p99=_percentile(self._lags, 0.99) * 1000,
        )


def _percentile(values: Iterable[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0
