"""Replay and resume: `since` brings a client exactly what it missed, in order, then live."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import Server
from tests.realtime.conftest import feed_head, open_feed, write, write_many

Sessions = async_sessionmaker[AsyncSession]


async def test_since_replays_missed_changes_in_order_then_streams_live(
    server: Server, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    since = await feed_head(sessions)
    missed = [(await write(client))["id"] for _ in range(5)]
    feed = await open_feed(server, since=since)
    replayed = [await feed.next() for _ in range(5)]
    assert [m["id"] for m in replayed] == missed
    assert [m["seq"] for m in replayed] == list(range(since + 1, since + 6))
    assert await feed.next() == {"type": "live", "seq": since + 5}
    later = await write(client)
    change = await feed.next()
    assert (change["seq"], change["id"]) == (since + 6, later["id"])
    await feed.close()


async def test_replayed_frames_keep_line_separators_inside_text(
    server: Server, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    """Waiting messages share a frame, one per line; text with line breaks of any kind in it
    must come through whole."""
    since = await feed_head(sessions)
    titles = [f"ligne\u2028séparée\u2029{i}\x85fin" for i in range(20)]
    for title in titles:
        await write(client, title=title, description="deux\nlignes\r\n")
    feed = await open_feed(server, since=since)
    replayed = [await feed.next() for _ in titles]
    assert [m["feature"]["properties"]["title"] for m in replayed] == titles
    assert {m["feature"]["properties"]["description"] for m in replayed} == {"deux\nlignes"}
    await feed.close()


async def test_null_since_starts_live_at_head_without_replay(
    server: Server, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await write(client)
    head = await feed_head(sessions)
    feed = await open_feed(server, since=None)
    assert feed.messages[0]["head"] == head
    assert await feed.next() == {"type": "live", "seq": head}
    await feed.close()


async def test_since_from_the_future_gets_a_reset_then_live(
    server: Server, sessions: Sessions
) -> None:
    head = await feed_head(sessions)
    feed = await open_feed(server, since=head + 1000)
    reset = await feed.next()
    assert reset["type"] == "reset" and reset["head"] == head
    assert "ahead of the feed" in reset["reason"]
    assert await feed.next() == {"type": "live", "seq": head}
    await feed.close()


async def test_replay_applies_the_filter(
    server: Server, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    since = await feed_head(sessions)
    await write(client, severity="minor")
    severe = await write(client, severity="extreme")
    feed = await open_feed(server, since=since, filter={"min_severity": "severe"})
    assert (await feed.next())["id"] == severe["id"]
    assert await feed.next() == {"type": "live", "seq": since + 2}
    await feed.close()


@pytest.mark.slow
async def test_reconnecting_client_gets_every_seq_exactly_once(
    server: Server, sessions: Sessions
) -> None:
    start = await feed_head(sessions)
    first = await open_feed(server, since=start)
    first.read_in_background()
    burst = asyncio.create_task(write_many(server, 500, writers=4))
    await first.wait_for(lambda f: len(f.changes) >= 150)
    await first.close()
    assert not burst.done(), "the client must leave mid-burst"

    resumed = await open_feed(server, since=first.seqs()[-1])
    resumed.read_in_background()
    await burst
    end = await feed_head(sessions)
    await resumed.wait_for(lambda f: bool(f.changes) and f.changes[-1]["seq"] >= end)

    assert first.seqs() + resumed.seqs() == list(range(start + 1, end + 1))
    await resumed.close()


@pytest.mark.slow
async def test_change_written_during_replay_comes_once_after_the_replayed_ones(
    server: Server, sessions: Sessions
) -> None:
    start = await feed_head(sessions)
    await write_many(server, 300, writers=4)
    burst = asyncio.create_task(write_many(server, 200, writers=4))
    feed = await open_feed(server, since=start)
    feed.read_in_background()
    await burst
    end = await feed_head(sessions)
    await feed.wait_for(lambda f: bool(f.changes) and f.changes[-1]["seq"] >= end)

    assert feed.seqs() == list(range(start + 1, end + 1))
    [live] = [m for m in feed.messages if m["type"] == "live"]
    boundary = feed.messages.index(live)
    assert all(m["seq"] <= live["seq"] for m in feed.messages[1:boundary])
    assert all(m["seq"] > live["seq"] for m in feed.messages[boundary + 1 :])
    await feed.close()
