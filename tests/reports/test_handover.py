"""The shift handover: it lists exactly what changed in the shift (the clock is injected), the
incoming team acknowledges it once (who, when), it is append-only once handed over and kept in
the logbook, an unacknowledged one escalates to the duty officer after 30 minutes (not before,
not when acknowledged), partners never see it, and bad input changes nothing."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert, Recipient
from app.alerts.settings import get_alert_settings
from app.db import transaction
from app.domain import changes
from app.domain.actor import Actor
from app.domain.logbook_entry import LogbookEntry
from app.errors import ProblemError
from app.reports import handover
from app.reports.handover_escalation import escalate_unacknowledged
from app.reports.models import Handover, HandoverEscalation
from app.reports.shifts import LOCAL_TIME
from tests.conftest import Server
from tests.realtime.conftest import Feed, open_feed
from tests.samples import GRAND_PLACE, feature, point

Sessions = async_sessionmaker[AsyncSession]
OUTGOING = Actor("op", "user")
INCOMING = Actor("coord", "user")
HOUR = timedelta(hours=1)


def incident(title: str, **props: Any) -> dict[str, Any]:
    return feature(point(*GRAND_PLACE), title=title, category="fire", severity="moderate", **props)


async def db_now(sessions: Sessions) -> datetime:
    """The database's clock: the change feed's times are its commit times."""
    async with sessions() as session:
        now = await session.scalar(text("SELECT clock_timestamp()"))
    assert isinstance(now, datetime)
    return now


def policy_between(start: datetime, end: datetime) -> handover.ShiftPolicy:
    """A watch whose shifts change exactly at `start` and `end` (times of day, to the
    microsecond): the shift ending at `end` began at `start`."""
    assert start.astimezone(LOCAL_TIME).date() == end.astimezone(LOCAL_TIME).date()
    return handover.ShiftPolicy(
        changes=(
            start.astimezone(LOCAL_TIME).timetz().replace(tzinfo=None),
            end.astimezone(LOCAL_TIME).timetz().replace(tzinfo=None),
        ),
        lead=HOUR,
        escalate_after=timedelta(minutes=30),
    )


async def created(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post("/api/incidents", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def patched(client: httpx.AsyncClient, obj: dict[str, Any], **props: Any) -> None:
    r = await client.patch(
        f"/api/incidents/{obj['id']}",
        json={"type": "Feature", "properties": props},
        headers={"If-Match": f'"{obj["properties"]["version"]}"'},
    )
    assert r.status_code == 200, r.text


def ids(group: list[dict[str, Any]]) -> set[str]:
    return {str(i["id"]) for i in group}


async def a_shift(sessions: Sessions) -> tuple[handover.ShiftPolicy, datetime, datetime]:
    start = await db_now(sessions)
    end = await db_now(sessions)
    return policy_between(start, end), start, end


async def handed_over(
    sessions: Sessions, policy: handover.ShiftPolicy, end: datetime, notes: str = "RAS"
) -> Handover:
    async with transaction(sessions) as session:
        draft = await handover.start(
            session,
            policy,
            handover.HandoverStart(shift_end=end, team="team 3", notes=notes),
            OUTGOING,
            end,
        )
        return await handover.hand_over(session, policy, draft.id, None, OUTGOING, end)


async def test_the_handover_lists_exactly_what_changed_in_the_shift(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    tag = uuid.uuid4().hex[:6]
    before = await created(client, incident(f"before {tag}"))
    to_change = await created(client, incident(f"changed {tag}"))
    to_close = await created(client, incident(f"closed {tag}"))
    start = await db_now(sessions)
    new = await created(client, incident(f"new {tag}"))
    await patched(client, to_change, title=f"changed in the shift {tag}")
    await patched(client, to_close, status="false_alarm")
    end = await db_now(sessions)
    after = await created(client, incident(f"after {tag}"))
    await patched(client, before, title=f"before, changed after {tag}")
    policy = policy_between(start, end)

    # Handed over later than the shift change: what came after its end is not in it.
    row = await handed_over(sessions, policy, end)
    async with sessions() as session:
        row = await handover.get(session, row.id)
    assert row.status == "handed_over"
    assert row.shift_start == start and row.shift_end == end
    content = row.content
    assert content is not None
    listed = content["changes"]["kinds"]["incident"]
    assert ids(listed["new"]) == {new["id"]}
    assert ids(listed["changed"]) == {to_change["id"]}
    assert ids(listed["closed"]) == {to_close["id"]}
    everything = set().union(*(ids(listed[g]) for g in ("new", "changed", "closed", "deleted")))
    assert before["id"] not in everything and after["id"] not in everything
    assert listed["counts"] == {"new": 1, "changed": 1, "closed": 1, "deleted": 0}
    assert content["from"] == start.isoformat() and content["until"] == end.isoformat()
    # The picture as it stands: open incidents by severity, the new one among them.
    assert content["incidents"]["by_severity"]["moderate"] >= 3
    items = ids(content["incidents"]["items"])
    if content["incidents"]["total"] <= handover.LISTED:
        assert new["id"] in items
    else:  # the session's database holds more open incidents than a handover lists
        assert len(items) == handover.LISTED
    assert to_close["id"] not in items


async def test_a_handover_prepared_before_the_change_lists_the_shift_up_to_then(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    tag = uuid.uuid4().hex[:6]
    start = await db_now(sessions)
    early = await created(client, incident(f"early {tag}"))
    prepared = await db_now(sessions)
    late = await created(client, incident(f"late {tag}"))
    end = await db_now(sessions)
    policy = policy_between(start, end)
    async with transaction(sessions) as session:
        shift = handover.Shift(start, end)
        content = await handover.build(session, shift, prepared)
    listed = ids(content["changes"]["kinds"]["incident"]["new"])
    assert early["id"] in listed and late["id"] not in listed
    assert policy.changes[0] < policy.changes[1]


async def test_handing_over_writes_the_logbook_and_the_incoming_team_acknowledges_once(
    sessions: Sessions,
) -> None:
    policy, _, end = await a_shift(sessions)
    row = await handed_over(sessions, policy, end, notes="Pompiers encore sur place rue Haute")
    assert row.handed_over_by == "op" and row.handed_over_at == end
    ack_at = end + timedelta(minutes=12)
    async with transaction(sessions) as session:
        done = await handover.acknowledge(
            session, row.id, handover.HandoverAcknowledgement(note="Lu"), INCOMING, ack_at
        )
    assert (done.status, done.acknowledged_by, done.acknowledged_at) == (
        "acknowledged",
        "coord",
        ack_at,
    )
    with pytest.raises(ProblemError) as again:
        async with transaction(sessions) as session:
            await handover.acknowledge(
                session, row.id, handover.HandoverAcknowledgement(), OUTGOING, ack_at + HOUR
            )
    assert again.value.status == 409 and "already acknowledged by coord" in again.value.detail
    async with sessions() as session:
        entries = (
            await session.scalars(
                select(LogbookEntry).where(
                    LogbookEntry.id.in_([done.handed_over_entry_id, done.acknowledged_entry_id])
                )
            )
        ).all()
        kept = await handover.get(session, row.id)
    assert {e.kind for e in entries} == {"handover"}
    by = {e.created_by: e for e in entries}
    assert "Pompiers encore sur place rue Haute" in (by["op"].description or "")
    assert row.ref in by["coord"].title and by["coord"].description == "Lu"
    assert kept.acknowledged_by == "coord" and kept.acknowledged_at == ack_at


async def test_whoever_handed_over_does_not_acknowledge_it(sessions: Sessions) -> None:
    policy, _, end = await a_shift(sessions)
    row = await handed_over(sessions, policy, end)
    with pytest.raises(ProblemError) as refused:
        async with transaction(sessions) as session:
            await handover.acknowledge(
                session, row.id, handover.HandoverAcknowledgement(), OUTGOING, end
            )
    assert refused.value.status == 409 and "incoming team" in refused.value.detail


async def test_a_handed_over_handover_is_never_changed(sessions: Sessions) -> None:
    policy, _, end = await a_shift(sessions)
    row = await handed_over(sessions, policy, end, notes="as handed over")
    with pytest.raises(ProblemError) as refused:
        async with transaction(sessions) as session:
            await handover.amend(
                session, row.id, handover.HandoverNotes(notes="rewritten"), None, OUTGOING, end
            )
    assert refused.value.status == 409
    with pytest.raises(ProblemError):
        async with transaction(sessions) as session:
            await handover.hand_over(session, policy, row.id, None, OUTGOING, end)
    # Not even by hand, in SQL: the table's trigger refuses it, and a deletion too.
    for statement in (
        "UPDATE handovers SET notes = 'rewritten' WHERE id = :id",
        "UPDATE handovers SET content = '{}' WHERE id = :id",
        "DELETE FROM handovers WHERE id = :id",
    ):
        with pytest.raises(DBAPIError, match="never"):
            async with transaction(sessions) as session:
                await session.execute(text(statement), {"id": row.id})
    async with sessions() as session:
        kept = await handover.get(session, row.id)
    assert kept.notes == "as handed over" and kept.content == row.content


async def test_an_unacknowledged_handover_escalates_after_thirty_minutes_once(
    sessions: Sessions,
) -> None:
    policy, _, end = await a_shift(sessions)
    policy = handover.ShiftPolicy(policy.changes, policy.lead, policy.escalate_after, "duty-1")
    await handed_over(sessions, policy, end)
    alerts = get_alert_settings()
    async with transaction(sessions) as session:
        early = await escalate_unacknowledged(session, policy, alerts, end + timedelta(minutes=29))
    assert early is None
    async with transaction(sessions) as session:
        done = await escalate_unacknowledged(session, policy, alerts, end + timedelta(minutes=31))
    assert done is not None and done.shift_end == end and "duty-1" in done.duty_officers
    async with transaction(sessions) as session:
        again = await escalate_unacknowledged(session, policy, alerts, end + timedelta(minutes=45))
    assert again is None
    async with sessions() as session:
        alert = await session.get(Alert, done.alert_id)
        partners = await session.scalar(
            select(func.count()).select_from(Recipient).where(Recipient.alert_id == done.alert_id)
        )
    assert alert is not None and alert.origin == "handover"
    assert "duty-1" in alert.texts["fr"]["instruction"]
    assert partners == 0  # SITCEN's own: no partner is told


async def test_a_missing_handover_escalates_too(sessions: Sessions) -> None:
    policy, _, end = await a_shift(sessions)
    async with transaction(sessions) as session:
        done = await escalate_unacknowledged(
            session, policy, get_alert_settings(), end + timedelta(minutes=30)
        )
    assert done is not None
    async with sessions() as session:
        alert = await session.get(Alert, done.alert_id)
    assert alert is not None and "missing" in alert.texts["en"]["description"]


async def test_an_acknowledged_handover_does_not_escalate(sessions: Sessions) -> None:
    policy, _, end = await a_shift(sessions)
    row = await handed_over(sessions, policy, end)
    async with transaction(sessions) as session:
        await handover.acknowledge(
            session, row.id, handover.HandoverAcknowledgement(), INCOMING, end + HOUR / 4
        )
    async with transaction(sessions) as session:
        done = await escalate_unacknowledged(session, policy, get_alert_settings(), end + HOUR)
        escalated = await session.get(HandoverEscalation, end)
    assert done is None and escalated is None


# ---- through the API, as the dashboard and the watch's other clients use it


def past_change() -> str:
    """A 07:00 or 19:00 Brussels of its own, years ago: one handover per shift change."""
    day = datetime(2020, 1, 1) + timedelta(days=random.randrange(0, 2000))
    at = datetime.combine(day.date(), time(random.choice((7, 19))), tzinfo=LOCAL_TIME)
    return at.isoformat()


async def count_handovers(sessions: Sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(Handover)) or 0


async def head(client: httpx.AsyncClient) -> int:
    return int((await client.get("/api/changes", params={"limit": 1})).json()["head"])


async def test_the_watch_hands_over_and_the_next_team_acknowledges_through_the_api(
    client: httpx.AsyncClient, client_for: Any
) -> None:
    coord = client_for("coord")
    current = await client.get("/api/handovers/current")
    assert current.status_code == 200, current.text
    assert {"shift", "prompt", "escalation_due_at"} <= set(current.json())
    light = (await client.get("/api/handovers/current", params={"preview": "false"})).json()
    assert light["shift"] == current.json()["shift"] and light["preview"] is None
    change = past_change()
    r = await client.post(
        "/api/handovers", json={"shift_end": change, "team": "team 2", "notes": "Calme"}
    )
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["status"] == "draft" and draft["content"]["changes"]["objects"] == 0
    assert datetime.fromisoformat(draft["shift_end"]) == datetime.fromisoformat(change)
    r = await client.post("/api/handovers", json={"shift_end": change})
    assert r.status_code == 409 and r.json()["handover"] == draft["id"]
    r = await client.patch(
        f"/api/handovers/{draft['id']}",
        json={"notes": "Calme, STIB en grève demain"},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    r = await client.patch(
        f"/api/handovers/{draft['id']}", json={"notes": "stale"}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 412
    r = await coord.post(f"/api/handovers/{draft['id']}/acknowledge", json={})
    assert r.status_code == 409  # not handed over yet
    r = await client.post(f"/api/handovers/{draft['id']}/hand-over")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "handed_over" and r.json()["handed_over_by"] == "op"
    r = await client.patch(f"/api/handovers/{draft['id']}", json={"notes": "later"})
    assert r.status_code == 409
    r = await coord.post(f"/api/handovers/{draft['id']}/acknowledge", json={"note": "OK"})
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged_by"] == "coord" and r.json()["acknowledged_at"]
    r = await client_for("off").post(f"/api/handovers/{draft['id']}/acknowledge", json={})
    assert r.status_code == 409 and r.json()["acknowledged_by"] == "coord"
    listed = (await client.get("/api/handovers", params={"limit": 200})).json()["handovers"]
    assert draft["id"] in {h["id"] for h in listed}


@pytest.mark.parametrize(
    "body",
    [
        {"shift_end": "2024-03-05T08:00:00+01:00"},  # not a shift change
        {"shift_end": "2024-03-05T07:00:00"},  # no offset
        {"shift_end": "2999-03-05T07:00:00+01:00"},  # far ahead
        {"shift_end": "2024-03-05T07:00:00+01:00", "colour": "red"},
        {"shift_end": "2024-03-05T07:00:00+01:00", "team": "x" * 33},
        {"shift_end": "2024-03-05T07:00:00+01:00", "notes": "x" * 20_001},
        {},
    ],
)
async def test_bad_input_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, sessions: Sessions, body: dict[str, Any]
) -> None:
    before, seq = await count_handovers(sessions), await head(client)
    r = await client.post("/api/handovers", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"], r.json()
    assert await count_handovers(sessions) == before and await head(client) == seq


async def test_an_unknown_handover_or_malformed_id_is_404(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(f"/api/handovers/{uuid.uuid4()}/hand-over")
    assert r.status_code == 404
    r = await client.get("/api/handovers/not-an-id")
    assert r.status_code == 404  # as an unknown one (app.api.deps.parse_uuid)
    r = await client.get("/api/handovers", params={"limit": 0})
    assert r.status_code == 422


@pytest.mark.parametrize("who", ["part", "part-b", "dispatch-a"])
async def test_partners_have_no_access_to_handovers(client_for: Any, who: str) -> None:
    caller = client_for(who)
    for method, path in (
        ("GET", "/api/handovers/current"),
        ("GET", "/api/handovers"),
        ("POST", "/api/handovers"),
        ("POST", f"/api/handovers/{uuid.uuid4()}/acknowledge"),
    ):
        r = await caller.request(method, path, json={} if method == "POST" else None)
        assert r.status_code == 403, (who, method, path, r.status_code)


async def test_the_watch_is_prompted_until_the_incoming_team_acknowledges(
    sessions: Sessions,
) -> None:
    policy, start, end = await a_shift(sessions)
    later = end + timedelta(minutes=10)
    async with sessions() as session:
        before = await handover.current(session, policy, later)
    assert before["prompt"] is True and before["handover"] is None
    assert before["shift"] == {"start": start.isoformat(), "end": end.isoformat()}
    assert before["preview"]["until"] == end.isoformat()
    assert before["escalation_due_at"] == (end + timedelta(minutes=30)).isoformat()
    row = await handed_over(sessions, policy, end)
    async with transaction(sessions) as session:
        await handover.acknowledge(
            session, row.id, handover.HandoverAcknowledgement(), INCOMING, later
        )
    async with sessions() as session:
        after = await handover.current(session, policy, later)
    assert after["prompt"] is False and after["handover"]["status"] == "acknowledged"
    assert after["preview"] is None and after["handover"]["content"] == row.content


async def test_two_starting_the_same_handover_at_once_make_one(client_for: Any) -> None:
    change = past_change()
    answers = await asyncio.gather(
        *(
            client_for(who).post("/api/handovers", json={"shift_end": change})
            for who in ("op", "coord", "off")
        )
    )
    assert sorted(r.status_code for r in answers) == [201, 409, 409], [r.text for r in answers]


async def test_the_escalation_reaches_sitcens_dashboards_live_and_no_partner(
    server: Server, sessions: Sessions
) -> None:
    staff = await open_feed(server, "op")
    partner = await open_feed(server, "part")
    staff.read_in_background()
    partner.read_in_background()
    try:
        policy, _, end = await a_shift(sessions)
        async with transaction(sessions) as session:
            done = await escalate_unacknowledged(
                session, policy, get_alert_settings(), end + timedelta(minutes=31)
            )
        assert done is not None

        def escalations(feed: Feed) -> list[dict[str, Any]]:
            return [
                m["alert"]
                for m in feed.messages
                if m["type"] == "alert" and m["alert"]["id"] == str(done.alert_id)
            ]

        await staff.wait_for(lambda f: bool(escalations(f)))
        (alert,) = escalations(staff)
        assert alert["origin"] == "handover"
        assert alert["texts"]["nl"]["headline"].startswith("De overdracht van")
        # Pushed to SITCEN's staff and to the alert's partners at once: it has none.
        assert escalations(partner) == []
    finally:
        await staff.close()
        await partner.close()


def test_a_task_done_or_a_checklist_completed_in_the_shift_is_listed_as_closed() -> None:
    def touched(entity: str, before: str | None, after: str) -> changes.Touched:
        state = lambda s: {"properties": {"status": s}}  # noqa: E731
        return changes.Touched(
            entity,
            uuid.uuid4(),
            "updated",
            state(after),
            datetime.now(UTC),
            "op",
            False,
            state(before) if before else None,
        )

    assert handover._group(touched("task", "in_progress", "done")) == "closed"
    assert handover._group(touched("task", "done", "done")) == "changed"
    assert handover._group(touched("checklist", "open", "completed")) == "closed"
    assert handover._group(touched("incident", "ongoing", "resolved")) == "changed"
    assert handover._group(touched("zone", "active", "lifted")) == "closed"
