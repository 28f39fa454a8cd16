"""The feed's other followers in an instance (procedures, conflicts) are woken by the listener
once the hub has the new records, not by the NOTIFY itself: the live fan-out goes first."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.keycache import KeyCache
from app.domain.changes import head
from app.realtime.feed import FeedItem
from app.realtime.hub import Hub
from app.realtime.listener import FeedListener
from app.settings import Settings
from tests.conftest import eventually, incident


class RecordingHub(Hub):
    """A hub that notes, at each publish, the seqs and whether the follower was woken yet."""

    def __init__(self, follower: asyncio.Event) -> None:
        super().__init__(queue_size=10)
        self.follower = follower
        self.seen: list[tuple[int, bool]] = []

    def publish(self, items: Iterable[FeedItem]) -> None:
        items = list(items)
        self.seen += [(item.seq, self.follower.is_set()) for item in items]
        super().publish(items)


async def test_followers_are_woken_after_the_hub_has_the_new_records(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    follower = asyncio.Event()
    hub = RecordingHub(follower)
    listener = FeedListener(settings, sessions, hub, KeyCache())
    listener.followers.append(follower)
    await listener.start()
    try:
        await eventually(lambda: listener.listening, "the listener's connection")
        listener._notified()
        assert not follower.is_set(), "a NOTIFY alone does not wake the followers"
        await eventually(follower.is_set, "the followers woken after the listener's read")

        follower.clear()
        r = await client.post("/api/incidents", json=incident("Suivi après le hub"))
        assert r.status_code == 201, r.text
        async with sessions() as session:
            written = await head(session)
        await eventually(lambda: hub.head >= written, "the write published to the hub")
        await eventually(follower.is_set, "the followers woken after the write")
        mine = [woken for seq, woken in hub.seen if seq == written]
        assert mine == [False], "the hub had the record before the followers were woken"
    finally:
        await listener.stop()
