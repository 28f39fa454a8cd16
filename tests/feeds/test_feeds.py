"""External CAP feeds in: a local feed server publishes real-world-shaped CAP messages (an
IRM/KMI thunderstorm warning in French and Dutch over Atom, carried inline; a BE-Alert-like
message over RSS, linked), changes them, answers 304 to conditional requests, fails (503), goes
down (connection refused) and comes back. sitcen's poller ingests each message exactly once,
applies Updates and Cancels, ignores what lies outside the Region, and each source's health
follows every state."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.incident import Incident
from app.domain.zone import Zone
from app.errors import ProblemError
from app.feeds import fetch
from app.feeds.poller import FEEDS_LOCK, CapSchema, parse_cap
from tests.conftest import PROJECT_ROOT, eventually
from tests.feeds.server import ATOM, CAP, RSS, FeedServer

SAMPLES = Path(__file__).parent / "samples"
XSD = PROJECT_ROOT.parent / "shared" / "data" / "cap" / "cap-1.2.xsd"
KMI_ALERT = "kmi-thunderstorm-orange-alert.xml"
KMI_UPDATE = "kmi-thunderstorm-yellow-update.xml"
KMI_CANCEL = "kmi-thunderstorm-cancel.xml"
KMI_LUXEMBOURG = "kmi-snow-luxembourg-alert.xml"
BEALERT_ALERT = "bealert-industrial-fire-alert.xml"
BEALERT_UPDATE = "bealert-industrial-fire-update.xml"
KMI_ALERT_ID = "2.49.0.0.56.0.BE.261207160000.THUNDER.BE004.1"
BEALERT_ID = "BE-ALERT-2026-12-07-0042"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def inline(name: str) -> str:
    return re.sub(r"^<\?xml[^>]*\?>\s*", "", sample(name))


def atom(entries: list[tuple[str, str, str]]) -> bytes:
    """An Atom feed as IRM/KMI-like warning services publish it: one entry per message, newest
    first, the CAP document inline in <content>."""
    body = "".join(
        f"""
  <entry>
    <id>urn:meteo.be:warning:{ident}</id>
    <title>{title}</title>
    <updated>{updated}</updated>
    <content type="application/cap+xml">{inline(name)}</content>
  </entry>"""
        for ident, updated, name in entries
        for title in [re.search(r"<headline>([^<]*)</headline>", sample(name))[1]]  # type: ignore[index]
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
  <id>urn:meteo.be:warnings:be</id>
  <title>IRM - avertissements / KMI - waarschuwingen</title>
  <updated>2026-12-07T22:30:00+01:00</updated>
  <author><name>IRM-KMI</name></author>{body}
</feed>
""".encode()


def rss(base: str, items: list[tuple[str, str]]) -> bytes:
    """An RSS 2.0 channel as BE-Alert-like services publish it: each item links its CAP
    document (an enclosure of type application/cap+xml)."""
    body = "".join(
        f"""
    <item>
      <guid isPermaLink="false">{guid}</guid>
      <title>{re.search(r"<headline>([^<]*)</headline>", sample(name))[1]}</title>
      <pubDate>Mon, 07 Dec 2026 17:00:00 +0100</pubDate>
      <link>{base}/cap/{name}</link>
      <enclosure url="{base}/cap/{name}" type="application/cap+xml" length="0"/>
    </item>"""  # type: ignore[index]
        for guid, name in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>BE-Alert</title>
    <link>https://www.be-alert.be</link>
    <description>Alertes / alarmen</description>{body}
  </channel>
</rss>
""".encode()


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def admin(client_for: Callable[[str], httpx.AsyncClient]) -> httpx.AsyncClient:
    return client_for("adm")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def health(admin: httpx.AsyncClient, name: str) -> dict[str, Any]:
    r = await admin.get(f"/api/feeds/{name}")
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()["health"]
    return result


async def first_poll(admin: httpx.AsyncClient, name: str) -> dict[str, Any]:
    """A new source is polled at once."""

    async def polled() -> dict[str, Any] | None:
        h = await health(admin, name)
        return h if h["last_polled_at"] else None

    return await eventually(polled, f"the first poll of {name}")


async def poll(admin: httpx.AsyncClient, name: str) -> dict[str, Any]:
    """Poll now, and the health once that poll is recorded."""
    before = (await health(admin, name))["last_polled_at"]
    r = await admin.post(f"/api/feeds/{name}/poll")
    assert r.status_code == 202, r.text

    async def polled() -> dict[str, Any] | None:
        h = await health(admin, name)
        return h if h["last_polled_at"] != before else None

    return await eventually(polled, f"a poll of {name}")


async def made(
    sessions: async_sessionmaker[AsyncSession], model: type[Incident] | type[Zone], source: str
) -> list[Any]:
    async with sessions() as session:
        rows = await session.scalars(select(model).where(model.source == source))
        return list(rows.all())


async def add_source(admin: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    r = await admin.post("/api/feeds", json={"poll_seconds": 3600, **body})
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def test_samples_are_valid_cap_1_2() -> None:
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    for path in sorted(SAMPLES.glob("*.xml")):
        assert schema.validate(etree.parse(str(path))), (path.name, schema.error_log.last_error)


async def test_weather_warnings_are_ingested_once_updated_cancelled_and_health_follows(
    feed_server: FeedServer,
    admin: httpx.AsyncClient,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name = unique("kmi")
    path = "/warnings.atom"
    feed_server.publish(
        path,
        atom(
            [
                ("thunder-1", "2026-12-07T16:00:00+01:00", KMI_ALERT),
                ("snow-1", "2026-12-07T16:05:00+01:00", KMI_LUXEMBOURG),
            ]
        ),
        ATOM,
    )
    created = await add_source(
        admin,
        name=name,
        title="IRM-KMI avertissements",
        url=feed_server.base + path,
        trust="verified",
    )
    source = created["source"]
    assert source == f"feed:verified:{name}"

    h = await first_poll(admin, name)
    assert h["state"] == "ok" and h["last_status"] == 200, h
    assert (h["messages_ingested"], h["messages_ignored"], h["messages_rejected"]) == (1, 1, 0)
    [warning] = await made(sessions, Incident, source)
    assert warning.external_id == KMI_ALERT_ID
    assert warning.title.startswith("Avertissement orange : orages")  # French first
    assert warning.severity == "severe" and warning.category == "flooding_storm"
    assert warning.municipality_codes, "placed in the Region"

    # Unchanged: a conditional request, a 304, nothing new.
    h = await poll(admin, name)
    assert feed_server.hits_of(path)[-1].status == 304 and feed_server.hits_of(path)[-1].conditional
    assert h["last_status"] == 304 and h["messages_ingested"] == 1
    assert len(await made(sessions, Incident, source)) == 1

    # The warning is lowered: an Update, listed first as feeds do.
    feed_server.publish(
        path,
        atom(
            [
                ("thunder-2", "2026-12-07T19:00:00+01:00", KMI_UPDATE),
                ("thunder-1", "2026-12-07T16:00:00+01:00", KMI_ALERT),
                ("snow-1", "2026-12-07T16:05:00+01:00", KMI_LUXEMBOURG),
            ]
        ),
        ATOM,
    )
    h = await poll(admin, name)
    assert h["last_status"] == 200 and h["messages_ingested"] == 2, h
    assert h["messages_ignored"] == 1, "entries already handled are not read again"
    r = await client.get(f"/api/incidents/{warning.id}")
    props = r.json()["properties"]
    assert props["severity"] == "moderate" and "jaune" in props["title"], props
    assert props["version"] == 2

    # The server fails: 503, then down altogether; the health says so each time.
    feed_server.failing = 503
    h = await poll(admin, name)
    assert h["state"] == "failing" and h["last_status"] == 503 and h["failures"] == 1, h
    assert "503" in h["last_error"]
    await feed_server.stop()
    h = await poll(admin, name)
    assert h["state"] == "failing" and h["last_status"] is None and h["failures"] == 2, h
    assert "Connect" in h["last_error"], h["last_error"]
    assert h["last_success_at"] is not None

    # It comes back with the end of the warning: the Cancel ends the incident, once.
    feed_server.failing = None
    feed_server.publish(
        path,
        atom(
            [
                ("thunder-3", "2026-12-07T22:30:00+01:00", KMI_CANCEL),
                ("thunder-2", "2026-12-07T19:00:00+01:00", KMI_UPDATE),
                ("thunder-1", "2026-12-07T16:00:00+01:00", KMI_ALERT),
            ]
        ),
        ATOM,
    )
    await feed_server.start()
    h = await poll(admin, name)
    assert h["state"] == "ok" and h["failures"] == 0 and h["last_status"] == 200, h
    assert h["messages_ingested"] == 3 and h["last_error"] is not None, "the last error is kept"
    props = (await client.get(f"/api/incidents/{warning.id}")).json()["properties"]
    assert props["closed_at"] is not None and props["version"] == 3, props
    h = await poll(admin, name)
    assert h["last_status"] == 304 and h["messages_ingested"] == 3
    [still] = await made(sessions, Incident, source)
    assert still.version == 3

    # The list shows the source with its health to the watch.
    listed = (await client.get("/api/feeds")).json()["feeds"]
    assert [f["health"]["messages_ingested"] for f in listed if f["name"] == name] == [3]
    # And the metrics, in Prometheus' text format.
    r = await admin.get("/api/metrics")
    samples = {
        (s.name, s.labels.get("outcome", "")): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
        if s.labels.get("source") == name
    }
    assert samples[("sitcen_external_feed_messages_total", "ingested")] == 3
    assert samples[("sitcen_external_feed_messages_total", "ignored")] == 1
    assert samples[("sitcen_external_feed_up", "")] == 1
    assert samples[("sitcen_external_feed_last_http_status", "")] == 304


async def test_linked_cap_messages_make_a_zone_and_an_entry_is_fetched_once(
    feed_server: FeedServer,
    admin: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name = unique("bealert")
    base = feed_server.base
    for document in (BEALERT_ALERT, BEALERT_UPDATE):
        feed_server.publish(f"/cap/{document}", sample(document).encode(), CAP)
    feed_server.publish("/alerts.rss", rss(base, [("ba-42", BEALERT_ALERT)]), RSS)
    created = await add_source(
        admin,
        name=name,
        title="BE-Alert",
        url=base + "/alerts.rss",
        entity="zone",
        zone_kind="security_perimeter",
        municipalities=["21001"],  # Anderlecht
    )
    assert created["trust"] == "unverified"
    h = await first_poll(admin, name)
    assert h["messages_ingested"] == 1, str(h)
    [perimeter] = await made(sessions, Zone, created["source"])
    assert perimeter.kind == "security_perimeter" and perimeter.external_id == BEALERT_ID
    assert "21001" in perimeter.municipality_codes

    # The update is added; the alert's document is not fetched again.
    feed_server.publish(
        "/alerts.rss", rss(base, [("ba-43", BEALERT_UPDATE), ("ba-42", BEALERT_ALERT)]), RSS
    )
    h = await poll(admin, name)
    assert h["messages_ingested"] == 2 and h["messages_rejected"] == 0, h
    assert len(feed_server.hits_of(f"/cap/{BEALERT_ALERT}")) == 1
    [perimeter] = await made(sessions, Zone, created["source"])
    assert perimeter.version == 2 and "Molenbeek" in perimeter.title

    # A linked document that cannot be fetched fails the poll and is tried again.
    feed_server.documents.pop(f"/cap/{BEALERT_UPDATE}")
    feed_server.publish(
        "/alerts.rss",
        rss(
            base, [("ba-43b", BEALERT_UPDATE), ("ba-43", BEALERT_UPDATE), ("ba-42", BEALERT_ALERT)]
        ),
        RSS,
    )
    h = await poll(admin, name)
    assert h["state"] == "failing" and "404" in h["last_error"], h
    feed_server.publish(f"/cap/{BEALERT_UPDATE}", sample(BEALERT_UPDATE).encode(), CAP)
    h = await poll(admin, name)
    assert h["state"] == "ok" and h["messages_ingested"] == 2, "the same message: nothing new"
    assert len(await made(sessions, Zone, created["source"])) == 1


async def test_a_source_that_keeps_messages_outside_the_region_makes_them(
    feed_server: FeedServer,
    admin: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name = unique("kmi-all")
    feed_server.publish(
        "/all.atom", atom([("snow-1", "2026-12-07T16:05:00+01:00", KMI_LUXEMBOURG)]), ATOM
    )
    created = await add_source(
        admin,
        name=name,
        title="IRM-KMI Belgique",
        url=feed_server.base + "/all.atom",
        outside="keep",
    )
    h = await first_poll(admin, name)
    assert (h["messages_ingested"], h["messages_ignored"]) == (1, 0), h
    [snow] = await made(sessions, Incident, created["source"])
    assert snow.municipality_codes == []


async def test_feed_sources_are_kept_by_administrators_and_every_write_is_audited(
    admin: httpx.AsyncClient, client_for: Callable[[str], httpx.AsyncClient]
) -> None:
    name = unique("neighbour")
    body = {
        "name": name,
        "title": "Centre de crise voisin",
        "url": "http://127.0.0.1:9/feed",
        "enabled": False,
    }
    r = await admin.post("/api/feeds", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["health"]["state"] == "disabled"
    assert (await admin.post("/api/feeds", json=body)).status_code == 409

    wrong = [
        ({**body, "name": unique("x"), "url": "ftp://example.org/feed"}, "url"),
        ({**body, "name": unique("x"), "zone_kind": "red_zone"}, "zone_kind"),
        ({**body, "name": unique("x"), "municipalities": ["99999"]}, "municipalities"),
        ({**body, "name": unique("x"), "poll_seconds": 1}, "poll_seconds"),
        ({**body, "name": "Bad Name"}, "name"),
    ]
    for bad, field_name in wrong:
        r = await admin.post("/api/feeds", json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field_name in str(r.json()["errors"]), r.text
    names = [f["name"] for f in (await admin.get("/api/feeds")).json()["feeds"]]
    assert name in names and not any(n.startswith("x-") for n in names)

    r = await admin.patch(f"/api/feeds/{name}", json={"trust": "verified", "poll_seconds": 60})
    assert r.status_code == 200, r.text
    assert r.json()["source"] == f"feed:verified:{name}" and r.json()["poll_seconds"] == 60

    operator, partner = client_for("op"), client_for("part")
    assert (await operator.get(f"/api/feeds/{name}")).status_code == 200
    assert (await operator.patch(f"/api/feeds/{name}", json={"enabled": True})).status_code == 403
    assert (await partner.get("/api/feeds")).status_code == 403
    assert (await admin.get("/api/feeds/no-such-feed")).status_code == 404

    assert (await admin.delete(f"/api/feeds/{name}")).status_code == 204
    assert (await admin.get(f"/api/feeds/{name}")).status_code == 404
    events = (await admin.get("/api/audit", params={"limit": 200})).json()
    kinds = [e["kind"] for e in events["events"] if e.get("subject") == f"feed:{name}"]
    assert sorted(kinds) == ["feed_source_changed", "feed_source_created", "feed_source_deleted"]


async def test_an_answer_larger_than_the_limit_is_cut_off(feed_server: FeedServer) -> None:
    feed_server.publish("/big.atom", b"<feed>" + b" " * 200_000 + b"</feed>", ATOM)
    async with fetch.client(10) as http:
        with pytest.raises(fetch.FetchFailed, match="limit"):
            await fetch.get(http, feed_server.base + "/big.atom", within=10, max_bytes=100_000)
        got = await fetch.get(http, feed_server.base + "/big.atom", within=10, max_bytes=300_000)
        again = await fetch.get(
            http, feed_server.base + "/big.atom", within=10, max_bytes=300_000, etag=got.etag
        )
    assert (got.status, again.status, again.body) == (200, 304, b"")


async def test_one_instance_polls_at_a_time(
    feed_server: FeedServer,
    admin: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """While another holds the poll (its advisory lock), this instance's steps skip; once it is
    released, the source is polled."""
    feed_server.publish(
        "/held.atom", atom([("thunder-1", "2026-12-07T16:00:00+01:00", KMI_ALERT)]), ATOM
    )

    async def steps() -> float:
        text = (await admin.get("/api/metrics")).text
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == "sitcen_worker_steps_total" and s.labels["worker"] == "feeds-poll":
                    return s.value
        raise AssertionError("no feeds-poll worker in the metrics")

    name = unique("held")
    engine = sessions.kw["bind"]
    async with engine.connect() as holder:
        holder = await holder.execution_options(isolation_level="AUTOCOMMIT")
        await holder.execute(select(func.pg_advisory_lock(FEEDS_LOCK)))
        try:
            before = await steps()
            await add_source(admin, name=name, title="Tenu", url=feed_server.base + "/held.atom")
            await admin.post(f"/api/feeds/{name}/poll")

            async def stepped() -> bool:
                return await steps() >= before + 2

            await eventually(stepped, "two steps of the poller while the lock is held")
            assert (await health(admin, name))["last_polled_at"] is None
            assert feed_server.hits_of("/held.atom") == []
        finally:
            await holder.execute(select(func.pg_advisory_unlock(FEEDS_LOCK)))
    h = await first_poll(admin, name)
    assert h["messages_ingested"] == 1, str(h)


async def test_a_null_sent_for_a_setting_is_refused_not_stored(admin: httpx.AsyncClient) -> None:
    name = unique("nulls")
    await add_source(admin, name=name, title="Nulls", url="http://127.0.0.1:9/x", enabled=False)
    for field_name in ("enabled", "title", "url", "poll_seconds", "trust", "outside"):
        r = await admin.patch(f"/api/feeds/{name}", json={field_name: None})
        assert r.status_code == 422, r.text
        assert field_name in str(r.json()["errors"])
    r = await admin.patch(f"/api/feeds/{name}", json={"zone_kind": None})
    assert r.status_code == 200 and r.json()["enabled"] is False


def test_a_message_off_the_cap_schema_is_refused_when_the_schema_is_set() -> None:
    schema = CapSchema(XSD)
    good = sample(KMI_ALERT).encode()
    assert parse_cap(good, schema).identifier == KMI_ALERT_ID
    # Out of the schema's order: the ingest's field checks take it, the schema does not.
    swapped = good.replace(
        b"<status>Actual</status>\n  <msgType>Alert</msgType>",
        b"<msgType>Alert</msgType>\n  <status>Actual</status>",
    )
    assert swapped != good and parse_cap(swapped, None).msg_type == "Alert"
    with pytest.raises(ProblemError, match=r"CAP 1\.2 schema"):
        parse_cap(swapped, schema)


async def test_a_server_that_hangs_is_given_up_on(feed_server: FeedServer) -> None:
    feed_server.publish("/slow.atom", b"<feed/>", ATOM)
    feed_server.stalled = asyncio.Event()
    try:
        async with fetch.client(60) as http:
            with pytest.raises(fetch.FetchFailed, match=r"no complete answer within 0\.5 s"):
                await fetch.get(http, feed_server.base + "/slow.atom", within=0.5, max_bytes=10_000)
    finally:
        feed_server.stalled.set()
