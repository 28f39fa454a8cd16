"""CAP in as a feed consumer: real CAP 1.2 messages (Environment Canada, NOAA/NWS, the WCATWC
tsunami centre, IPAWS, the OASIS examples; tests/alerts/cap_samples/README.md), moved into
Brussels. An Alert makes an incident; an Update changes the incident made from the message it
references, a Cancel ends it; an Update of an unknown message is a new incident, a Cancel of
one a 404; a message sent again is applied once; messages out of order are linked without
overwriting newer state; and an edit made by someone else is never silently overwritten."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.lifecycle import cap
from app.alerts.lifecycle.ingest import cancellation
from app.domain import incident, planned_event, zone
from tests.alerts.test_cap import alert, document
from tests.conftest import Server, eventually
from tests.schema import differences_from_models

SAMPLES = Path(__file__).parent / "cap_samples"
CAP_XML = {"Content-Type": "application/cap+xml"}
EC_WIND = "ec-wind-warning-update.xml"
EC_THUNDERSTORM = "ec-thunderstorm-update.xml"
NWS_THUNDERSTORM = "oasis-nws-thunderstorm-alert.xml"
EARTHQUAKE = "oasis-earthquake-update.xml"
AMBER = "oasis-amber-alert.xml"
TSUNAMI_WARNING = "wcatwc-tsunami-warning-update.xml"
TSUNAMI_CANCELLATION = "wcatwc-tsunami-cancellation-update.xml"
NEVADA_CANCEL = "ipaws-nevada-cancel.xml"

Feed = Callable[[], Awaitable[httpx.AsyncClient]]


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def references(xml: str) -> list[str]:
    found = re.search(r"<references>([^<]*)</references>", xml)
    return found[1].split() if found else []


def _set(xml: str, name: str, value: str) -> str:
    """Every <name> element's text replaced: each <info>'s for the fields of an info."""
    replaced, n = re.subn(rf"<{name}>[^<]*</{name}>", lambda _: f"<{name}>{value}</{name}>", xml)
    assert n, f"no <{name}> to replace"
    return replaced


def reissued(
    xml: str,
    *,
    sender: str,
    identifier: str,
    sent: str,
    msg_type: str,
    references: str | None = None,
    **fields: str,
) -> bytes:
    """`xml`'s content sent as another message. The samples are single messages of their
    feeds; the message a sample references (or a later one) is derived from it this way, with
    the changes named in each test."""
    xml = _set(_set(xml, "identifier", identifier), "sender", sender)
    xml = _set(_set(xml, "sent", sent), "msgType", msg_type)
    xml = re.sub(r"\s*<references>[^<]*</references>", "", xml)
    if references:
        xml = xml.replace("</scope>", f"</scope>\n<references>{references}</references>", 1)
    for name, value in fields.items():
        xml = _set(xml, name, value)
    return xml.encode()


def earlier(xml: str, reference: str, **fields: str) -> bytes:
    """The Alert `reference` (sender,identifier,sent) names, as `xml`'s content."""
    sender, identifier, sent = reference.split(",")
    return reissued(
        xml, sender=sender, identifier=identifier, sent=sent, msg_type="Alert", **fields
    )


def later(xml: str, identifier: str, sent: str, msg_type: str = "Update", **fields: str) -> bytes:
    """An Update (or Cancel) of the Alert `xml`, as its sender would send it."""
    first = cap.parse(xml.encode())
    reference = f"{first.sender},{first.identifier},{cap.cap_time(first.sent)}"
    return reissued(
        xml,
        sender=first.sender,
        identifier=identifier,
        sent=sent,
        msg_type=msg_type,
        references=reference,
        **fields,
    )


@pytest.fixture
async def make_feed(server: Server) -> AsyncIterator[Feed]:
    """A partner system's feed: a dispatch API key of its own, so that each test's messages are
    its own (messages are looked up within the feed they came through)."""
    opened: list[httpx.AsyncClient] = []
    admin = {"Authorization": f"Bearer {server.tokens['adm']}"}

    async def make() -> httpx.AsyncClient:
        name = f"capfeed-{uuid.uuid4().hex[:10]}"
        async with httpx.AsyncClient(base_url=server.url, headers=admin, timeout=30) as c:
            r = await c.post("/api/apikeys", json={"name": name, "role": "dispatch"})
            assert r.status_code == 201, r.text
        client = httpx.AsyncClient(
            base_url=server.url, headers={"X-API-Key": r.json()["key"]}, timeout=30
        )
        opened.append(client)
        return client

    yield make
    for c in opened:
        await c.aclose()


async def post(client: httpx.AsyncClient, xml: bytes, **params: str) -> httpx.Response:
    return await client.post("/api/cap", content=xml, headers=CAP_XML, params=params)


async def history(client: httpx.AsyncClient, oid: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/incidents/{oid}/history")
    assert r.status_code == 200, r.text
    return list(r.json()["changes"])


def utc(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).isoformat()


async def test_an_update_changes_the_incident_made_from_the_message_it_references(
    make_feed: Feed,
) -> None:
    feed = await make_feed()
    update = sample(EC_WIND)
    first = references(update)[0]  # cap-pac@canada.ca,urn:oid:…0642871265.2019,2019-01-08T19:55:40
    alert = earlier(
        update,
        first,
        severity="Minor",
        effective="2019-01-08T19:55:40-00:00",
        expires="2019-01-09T11:55:40-00:00",
    )
    made = await post(feed, alert)
    assert made.status_code == 201, made.text
    oid = made.json()["id"]
    assert made.json()["properties"]["severity"] == "minor"

    r = await post(feed, update.encode())
    assert r.status_code == 200, r.text
    assert r.headers["location"] == f"/api/incidents/{oid}"
    props = r.json()["properties"]
    assert r.json()["id"] == oid and props["version"] == 2
    assert props["severity"] == "moderate"
    assert props["title"] == "avertissement de vent en vigueur"  # the French info
    assert props["occurred_at"] == utc("2019-01-09T02:16:03+00:00")
    assert props["municipality"] is not None, "moved into Brussels"
    changes = await history(feed, oid)
    assert [c["op"] for c in changes] == ["created", "updated"]
    assert {c["by"] for c in changes} == {made.json()["properties"]["created_by"]}


async def test_a_message_sent_again_is_applied_once(make_feed: Feed) -> None:
    feed = await make_feed()
    update = sample(EC_WIND)
    alert = earlier(update, references(update)[0], severity="Minor")
    oid = (await post(feed, alert)).json()["id"]
    assert (await post(feed, update.encode())).status_code == 200

    for message in (update.encode(), alert, update.encode()):
        again = await post(feed, message)
        assert again.status_code == 200, again.text
        assert again.json()["id"] == oid and again.json()["properties"]["version"] == 2
        assert any("already received" in n for n in again.json()["notes"])
    assert len(await history(feed, oid)) == 2

    reused = reissued(
        update,
        sender="cap-pac@canada.ca",
        identifier="urn:oid:2.49.0.1.124.3936999913.2019",
        sent="2019-01-09T03:00:00-00:00",
        msg_type="Update",
        references=references(update)[0],
    )
    r = await post(feed, reused)
    assert r.status_code == 409 and r.json()["type"].endswith("/cap-identifier-reused")


async def test_a_cancel_ends_the_incident_at_the_messages_sent_time(make_feed: Feed) -> None:
    feed = await make_feed()
    cancel = sample(NEVADA_CANCEL)  # no <info>: a Cancel needs none
    alert = earlier(sample(NWS_THUNDERSTORM), references(cancel)[0])
    made = await post(feed, alert)
    assert made.status_code == 201, made.text
    assert made.json()["properties"]["closed_at"] is None

    r = await post(feed, cancel.encode())
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert r.json()["id"] == made.json()["id"] and props["version"] == 2
    # An incident has no `cancelled` status: its end is the Cancel's sent, its status the
    # watch's to decide.
    assert props["closed_at"] == utc("2019-04-19T11:46:20-06:00")
    assert props["status"] == "reported"
    assert props["title"] == "SEVERE THUNDERSTORM WARNING"


async def test_a_cancel_naming_no_message_received_is_a_404_naming_it(make_feed: Feed) -> None:
    feed = await make_feed()
    cancel = sample(NEVADA_CANCEL)
    r = await post(feed, cancel.encode())
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["references"] == references(cancel)
    assert "AS-NV-e18921c7-1b35-4a81-9705-42d25c265ddd" in r.json()["detail"]
    assert (await feed.get("/api/incidents")).json()["features"] == []


@pytest.mark.parametrize(
    ("name", "title", "severity"),
    [
        (EARTHQUAKE, "EQ 3.4 Imperial County CA", "minor"),
        (EC_THUNDERSTORM, "veille d'orages violents", "minor"),
        (TSUNAMI_WARNING, "The tsunami Warning continues in effect", "extreme"),
    ],
    ids=["OASIS earthquake", "Environment Canada", "WCATWC tsunami"],
)
async def test_an_update_of_a_message_never_received_is_a_new_incident(
    make_feed: Feed, name: str, title: str, severity: str
) -> None:
    feed = await make_feed()
    update = sample(name).encode()
    r = await post(feed, update)
    assert r.status_code == 201, r.text
    props = r.json()["properties"]
    assert props["title"].startswith(title) and props["severity"] == severity
    assert props["external_id"] == cap.parse(update).identifier
    assert props["municipality"] is not None, "moved into Brussels"
    assert any("a new incident" in n for n in r.json()["notes"])
    again = await post(feed, update)
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]


async def test_an_alert_arriving_after_its_update_is_linked_not_applied(make_feed: Feed) -> None:
    feed = await make_feed()
    update = sample(TSUNAMI_WARNING)
    # The tsunami centre's reference names its sender "PAAQ", not the message's own sender.
    alert = earlier(update, references(update)[0], severity="Severe", urgency="Expected")
    made = await post(feed, update.encode())
    assert made.status_code == 201, made.text

    late = await post(feed, alert)
    assert late.status_code == 200, late.text
    assert late.json()["id"] == made.json()["id"]
    assert late.json()["properties"]["version"] == 1
    assert late.json()["properties"]["severity"] == "extreme", "the Update's, sent later"
    assert any("not applied" in n for n in late.json()["notes"])
    assert len(await history(feed, made.json()["id"])) == 1


async def test_an_update_naming_several_messages_changes_their_incident(make_feed: Feed) -> None:
    feed = await make_feed()
    cancellation_update = sample(TSUNAMI_CANCELLATION)  # names PAAQ-1, -2 and -3 of mg5a94
    alert = earlier(
        cancellation_update,
        references(cancellation_update)[0],
        severity="Extreme",
        headline="Tsunami Warning",
        onset="2013-01-05T09:01:16-00:00",
        expires="2013-01-05T11:01:16-00:00",
    )
    made = await post(feed, alert)
    assert made.status_code == 201, made.text

    r = await post(feed, cancellation_update.encode())
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert r.json()["id"] == made.json()["id"] and props["version"] == 2
    assert props["title"].startswith("The tsunami Warning is canceled")
    assert props["severity"] == "extreme", "severity Unknown says nothing: left as it was"
    assert props["occurred_at"] == utc("2013-01-05T10:58:23+00:00")


@pytest.mark.parametrize(
    ("edit", "answer"),
    [
        ({"title": "Orages violents: vérifié sur place"}, 409),
        ({"visibility": "shared", "place": "Evere"}, 200),
    ],
    ids=["a field the Update writes", "fields it does not write"],
)
async def test_an_edit_made_since_the_feed_wrote_is_never_overwritten(
    make_feed: Feed, client_for: Any, edit: dict[str, Any], answer: int
) -> None:
    feed, operator = await make_feed(), client_for("op")
    update = sample(EC_THUNDERSTORM)
    alert = earlier(update, references(update)[0], headline="veille d'orages violents émise")
    oid = (await post(feed, alert)).json()["id"]
    path = f"/api/incidents/{oid}"
    edited = await operator.patch(
        path, json={"type": "Feature", "properties": edit}, headers={"If-Match": '"1"'}
    )
    assert edited.status_code == 200, edited.text

    r = await post(feed, update.encode())
    assert r.status_code == answer, r.text
    now = (await operator.get(path)).json()["properties"]
    if answer == 409:
        problem = r.json()
        assert problem["type"].endswith("/cap-conflict")
        assert problem["feed_version"] == 1 and problem["current_version"] == 2
        assert problem["fields"] == ["title"]
        assert problem["current"]["properties"]["title"] == edit["title"]
        assert "version 2" in problem["detail"] and "version 1" in problem["detail"]
        assert now["version"] == 2 and now["title"] == edit["title"], "nothing applied"
    else:
        assert now["version"] == 3 and now["title"] == "veille d'orages violents"
        assert now["visibility"] == "shared" and now["place"] == "Evere", "the edit is kept"


async def _waiting_for_a_lock(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        query = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int((await session.execute(text(query))).scalar_one())


async def _until_waiting(
    sessions: async_sessionmaker[AsyncSession], requests: int, who: str
) -> None:
    async def queued() -> bool:
        return await _waiting_for_a_lock(sessions) >= requests

    await eventually(queued, f"{who}'s request waiting for the row")


@pytest.mark.parametrize("first", ["feed", "operator"])
async def test_a_feed_update_racing_an_operator_edit_never_overwrites_it_nor_the_reverse(
    make_feed: Feed,
    client_for: Any,
    sessions: async_sessionmaker[AsyncSession],
    first: str,
) -> None:
    """Both requests arrive while a third transaction holds the incident's row, and queue for
    it in a known order: the first writes; the second, which read the object before that
    write, is refused naming the versions (412 to the operator's If-Match, 409 to the feed),
    never applied over it."""
    feed, operator = await make_feed(), client_for("op")
    alert = sample(NWS_THUNDERSTORM)
    update = later(
        alert,
        "KSTO1055888103",
        "2003-06-17T15:15:00-07:00",
        headline="SEVERE THUNDERSTORM WARNING REMAINS IN EFFECT",
    )
    mine = "Orage violent: grêle constatée"
    oid = (await post(feed, alert.encode())).json()["id"]
    path = f"/api/incidents/{oid}"
    send = {
        "feed": lambda: post(feed, update),
        "operator": lambda: operator.patch(
            path,
            json={"type": "Feature", "properties": {"title": mine}},
            headers={"If-Match": '"1"'},
        ),
    }
    answers: dict[str, asyncio.Task[httpx.Response]] = {}
    async with sessions() as holder:
        await holder.execute(text("SELECT 1 FROM incidents WHERE id = :id FOR UPDATE"), {"id": oid})
        for n, who in enumerate(sorted(send, key=lambda w: w != first), start=1):
            answers[who] = asyncio.create_task(send[who]())
            await _until_waiting(sessions, n, who)
        await holder.commit()
    edit, fed = await answers["operator"], await answers["feed"]

    final = (await operator.get(path)).json()["properties"]
    assert final["version"] == 2
    if first == "feed":
        assert (fed.status_code, edit.status_code) == (200, 412), (fed.text, edit.text)
        assert final["title"] == "SEVERE THUNDERSTORM WARNING REMAINS IN EFFECT"
    else:
        assert (edit.status_code, fed.status_code) == (200, 409), (edit.text, fed.text)
        assert fed.json()["feed_version"] == 1 and fed.json()["current_version"] == 2
        assert final["title"] == mine


async def test_a_feed_never_reaches_what_another_feed_made(make_feed: Feed) -> None:
    feed_a, feed_b = await make_feed(), await make_feed()
    alert = sample(AMBER)
    made = await post(feed_a, alert.encode())
    assert made.status_code == 201, made.text
    assert made.json()["properties"]["title"] == "Amber Alert in Los Angeles County"
    first = cap.parse(alert.encode())
    cancel = reissued(
        sample(NEVADA_CANCEL),
        sender=first.sender,
        identifier="KAR0-0306120015-SW",
        sent="2003-06-12T00:15:00-07:00",
        msg_type="Cancel",
        references=f"{first.sender},{first.identifier},{cap.cap_time(first.sent)}",
    )
    assert (await post(feed_b, cancel)).status_code == 404
    assert (await post(feed_a, cancel)).status_code == 200
    oid = made.json()["id"]
    assert (await feed_a.get(f"/api/incidents/{oid}")).json()["properties"]["version"] == 2


async def test_a_neighbouring_centres_alert_and_cancel_make_and_end_a_zone(
    client: httpx.AsyncClient,
) -> None:
    """Another crisis centre running sitcen: its CAP out is our CAP in."""
    ring = [[4.3920, 50.8880], [4.3960, 50.8880], [4.3960, 50.8900], [4.3920, 50.8900]]
    area = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    first = alert(area, sent_at=datetime(2026, 9, 26, 8, 0, tzinfo=UTC))
    cancelled = alert(area, msg_type="Cancel", sent_at=datetime(2026, 9, 26, 9, 30, tzinfo=UTC))
    params = {"entity": "zone", "kind": "drone_ban"}
    made = await post(client, document(first), **params)
    assert made.status_code == 201, made.text
    assert made.json()["properties"]["valid_to"] == "2026-09-26T20:00:00+00:00"  # expires

    r = await post(client, document(cancelled, referenced=first), **params)
    assert r.status_code == 200, r.text
    assert r.headers["location"] == f"/api/zones/{made.json()['id']}"
    assert r.json()["properties"]["valid_to"] == "2026-09-26T09:30:00+00:00"
    assert r.json()["properties"]["status"] == "active"
    assert r.json()["properties"]["updated_by"] == "op"


async def test_the_cap_messages_table_is_migrated_as_its_model_says(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await differences_from_models(sessions, {"cap_messages"}) == []


# ---- what a Cancel writes, kind by kind -------------------------------------------------------

SENT = datetime(2026, 9, 26, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_a_cancel_cancels_a_kind_that_has_a_cancelled_status() -> None:
    row = planned_event.PlannedEvent(status="planned")
    assert cancellation(planned_event.SPEC, row, SENT) == {"status": "cancelled"}


@pytest.mark.parametrize(
    ("window", "written"),
    [
        ((SENT - HOUR, None), {"closed_at": SENT}),
        ((SENT - HOUR, SENT - 2 * HOUR), {"closed_at": SENT - 2 * HOUR}),
        ((SENT + HOUR, None), {"closed_at": SENT + HOUR}),
    ],
    ids=["open", "already closed earlier: kept", "not begun: closed at its start"],
)
def test_a_cancel_ends_an_incident_never_later_and_never_before_it_began(
    window: tuple[datetime, datetime | None], written: dict[str, Any]
) -> None:
    row = incident.Incident(occurred_at=window[0], closed_at=window[1])
    assert cancellation(incident.SPEC, row, SENT) == written


@pytest.mark.parametrize(
    ("window", "written"),
    [
        ((None, None), {"valid_to": SENT}),
        ((SENT - HOUR, SENT + HOUR), {"valid_to": SENT}),
        ((SENT - 2 * HOUR, SENT - HOUR), {"valid_to": SENT - HOUR}),
        ((SENT + HOUR, SENT + 2 * HOUR), {"status": "lifted"}),
    ],
    ids=["no window", "in force", "already over: kept", "not begun: lifted"],
)
def test_a_cancel_ends_a_zone_at_its_sent_time_or_lifts_one_not_begun(
    window: tuple[datetime | None, datetime | None], written: dict[str, Any]
) -> None:
    row = zone.Zone(valid_from=window[0], valid_to=window[1], status="active")
    assert cancellation(zone.SPEC, row, SENT) == written
