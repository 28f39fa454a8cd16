"""The contact directory: SITCEN keeps every organisation's entries, a partner its own only;
phone numbers and e-mails are checked; each organisation confirms its entries on a schedule,
is reminded through alerting once per period, and SITCEN's report names who is overdue. Time is
moved with the reminders' injected clock, not waited for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.settings import AlertSettings
from app.background import dead_letters
from app.cell.directory_reminders import DirectoryReminders
from app.clock import utcnow
from app.partners import directory
from app.partners.directory import Policy
from app.partners.models import DirectoryReminder
from app.settings import Settings
from tests.cell.organisations import Organisation, organisations
from tests.conftest import Server, eventually
from tests.routes import blanked

Sessions = async_sessionmaker[AsyncSession]
Pair = tuple[Organisation, Organisation]


@pytest.fixture
async def orgs(server: Server) -> AsyncIterator[Pair]:
    async for pair in organisations(server):
        yield pair


def entry(org: str | None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "function": "Officier de garde D1",
        "phone_24_7": "02 501 05 11",
        "email": "garde@siamu.test",
        "radio_talkgroup": "BXL-D1-COORD",
        **fields,
    }
    if org is not None:
        body["organisation"] = org
    return body


async def entries_of(client: httpx.AsyncClient, org: str) -> list[dict[str, Any]]:
    r = await client.get("/api/directory", params={"organisation": org})
    assert r.status_code == 200, r.text
    return list(r.json()["entries"])


async def test_staff_keep_an_entry_with_numbers_stored_in_e164(
    client: httpx.AsyncClient, orgs: Pair
) -> None:
    a, _ = orgs
    r = await client.post(
        "/api/directory", json=entry(a.code, name="Cdt Peeters", phone="0475 12 34 56")
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["Location"] == f"/api/directory/{created['id']}"
    assert created["organisation"] == a.code
    assert (created["phone_24_7"], created["phone"]) == ("+3225010511", "+32475123456")
    assert created["radio_talkgroup"] == "BXL-D1-COORD" and created["active"] is True
    assert created["created_by"] == "op"

    r = await client.patch(
        f"/api/directory/{created['id']}",
        json={"phone_24_7": "+33 1 42 68 53 00", "phone": "02 501 05 11 ext. 312", "name": None},
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert (changed["phone_24_7"], changed["name"]) == ("+33142685300", None)
    assert changed["phone"] == "+3225010511;ext=312"
    assert (await client.get(f"/api/directory/{created['id']}")).json() == changed
    assert [e["id"] for e in await entries_of(client, a.code)] == [created["id"]]

    assert (await client.delete(f"/api/directory/{created['id']}")).status_code == 204
    assert (await client.get(f"/api/directory/{created['id']}")).status_code == 404
    assert await entries_of(client, a.code) == []


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"phone_24_7": "12345"}, "phone_24_7"),
        ({"phone": "not a number"}, "phone"),
        ({"phone_24_7": "112"}, "phone_24_7"),  # an emergency number is no one's direct line
        ({"email": "garde at siamu"}, "email"),
        ({"function": ""}, "function"),
        ({"radio_talkgroup": "x" * 65}, "radio_talkgroup"),
        ({"fax": "02 501 05 12"}, "fax"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    client: httpx.AsyncClient, orgs: Pair, fields: dict[str, Any], where: str
) -> None:
    a, _ = orgs
    r = await client.post("/api/directory", json=entry(a.code, **fields))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert where in str(r.json()["errors"])
    assert await entries_of(client, a.code) == []


async def test_bad_changes_and_unknown_organisations_are_refused(
    client: httpx.AsyncClient, orgs: Pair
) -> None:
    a, _ = orgs
    r = await client.post("/api/directory", json=entry("t-no-such-organisation"))
    assert r.status_code == 422 and "organisation" in str(r.json()["errors"])
    r = await client.post("/api/directory", json=entry(None))
    assert r.status_code == 422 and "organisation" in str(r.json()["errors"])
    made = (await client.post("/api/directory", json=entry(a.code))).json()
    for change in ({"function": None}, {"active": None}, {"phone": "0"}, {"organisation": "x"}):
        r = await client.patch(f"/api/directory/{made['id']}", json=change)
        assert r.status_code == 422, (change, r.text)
    assert (await client.get(f"/api/directory/{made['id']}")).json() == made


async def test_a_partner_keeps_its_own_entries_and_never_sees_another_s(
    client: httpx.AsyncClient, orgs: Pair
) -> None:
    a, b = orgs
    r = await a.spoc.post("/api/directory", json=entry(None, function="Permanence A"))
    assert r.status_code == 201, r.text
    mine = r.json()
    assert (mine["organisation"], mine["created_by"]) == (a.code, a.username)
    theirs = (await client.post("/api/directory", json=entry(b.code, name="Secret B"))).json()

    listed = (await a.spoc.get("/api/directory")).json()["entries"]
    assert [e["id"] for e in listed] == [mine["id"]]
    assert "Secret B" not in (await a.spoc.get("/api/directory", params={"q": "Secret"})).text

    unknown = "0190f0f0-0000-7000-8000-000000000000"
    for method, body in (("GET", None), ("PATCH", {"notes": "intrus"}), ("DELETE", None)):
        hidden = await a.spoc.request(method, f"/api/directory/{theirs['id']}", json=body)
        missing = await a.spoc.request(method, f"/api/directory/{unknown}", json=body)
        assert hidden.status_code == 404, hidden.text
        assert blanked(hidden, theirs["id"]) == blanked(missing, unknown)
    hidden = await a.spoc.get("/api/directory", params={"organisation": b.code})
    missing = await a.spoc.get("/api/directory", params={"organisation": "t-nobody"})
    assert hidden.status_code == 404 and blanked(hidden, b.code) == blanked(missing, "t-nobody")
    hidden = await a.spoc.post("/api/directory", json=entry(b.code))
    missing = await a.spoc.post("/api/directory", json=entry("t-nobody"))
    assert hidden.status_code == 404 and blanked(hidden, b.code) == blanked(missing, "t-nobody")

    assert (await client.get(f"/api/directory/{theirs['id']}")).json() == theirs
    assert [e["id"] for e in await entries_of(client, b.code)] == [theirs["id"]]
    r = await a.spoc.patch(f"/api/directory/{mine['id']}", json={"notes": "bip 1234"})
    assert r.status_code == 200 and r.json()["notes"] == "bip 1234"


async def test_confirmation_records_who_and_when_and_starts_a_new_period(
    client: httpx.AsyncClient, orgs: Pair, server: Server
) -> None:
    a, b = orgs
    await a.spoc.post("/api/directory", json=entry(None))
    before = (await a.spoc.get(f"/api/directory/{a.code}/schedule")).json()
    assert before["state"] == "never_confirmed" and before["confirmed_at"] is None
    assert before["confirm_days"] == 182 and before["active_entries"] == 1

    r = await a.spoc.post(f"/api/directory/{a.code}/confirm")
    assert r.status_code == 200, r.text
    confirmed = r.json()
    at = datetime.fromisoformat(confirmed["confirmed_at"])
    assert abs((utcnow() - at).total_seconds()) < 60
    assert (confirmed["confirmed_by"], confirmed["state"]) == (a.username, "confirmed")
    assert datetime.fromisoformat(confirmed["due_at"]) == at + timedelta(days=182)

    # SITCEN may confirm on a partner's behalf (by phone); the record says who did.
    r = await client.post(f"/api/directory/{b.code}/confirm")
    assert r.status_code == 200 and r.json()["confirmed_by"] == "op"

    hidden = await a.spoc.post(f"/api/directory/{b.code}/confirm")
    missing = await a.spoc.post("/api/directory/t-nobody/confirm")
    assert hidden.status_code == 404 and blanked(hidden, b.code) == blanked(missing, "t-nobody")
    hidden = await a.spoc.get(f"/api/directory/{b.code}/schedule")
    assert hidden.status_code == 404
    assert (await client.get(f"/api/directory/{b.code}/schedule")).json()["confirmed_by"] == "op"
    r = await client.post("/api/directory/t-nobody/confirm")
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["path", "organisation"]


async def test_an_organisation_s_own_period_is_set_by_the_coordinator(
    client_for: Any, orgs: Pair
) -> None:
    a, _ = orgs
    coord, op = client_for("coord"), client_for("op")
    await a.spoc.post(f"/api/directory/{a.code}/confirm")
    r = await coord.patch(f"/api/directory/{a.code}/schedule", json={"confirm_days": 30})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["confirm_days"], body["own_confirm_days"]) == (30, 30)
    confirmed = datetime.fromisoformat(body["confirmed_at"])
    assert datetime.fromisoformat(body["due_at"]) == confirmed + timedelta(days=30)
    assert body["confirmed_by"] == a.username  # setting the period confirms nothing

    for bad in ({"confirm_days": 0}, {"confirm_days": "often"}, {}):
        assert (await coord.patch(f"/api/directory/{a.code}/schedule", json=bad)).status_code == 422
    r = await op.patch(f"/api/directory/{a.code}/schedule", json={"confirm_days": 1})
    assert r.status_code == 403
    r = await a.spoc.patch(f"/api/directory/{a.code}/schedule", json={"confirm_days": 1000})
    assert r.status_code == 403
    r = await coord.patch(f"/api/directory/{a.code}/schedule", json={"confirm_days": None})
    assert (r.json()["confirm_days"], r.json()["own_confirm_days"]) == (182, None)


def reminders(sessions: Sessions, settings: Settings, now: list[datetime]) -> DirectoryReminders:
    """The reminders' worker on a clock the test moves, reminding 2 days before the due date."""
    policy = settings.model_copy(update={"directory_reminder_days": 2})
    return DirectoryReminders(sessions, policy, AlertSettings(), lambda: now[0])


async def sent_to(sessions: Sessions, org: str) -> list[tuple[str, datetime]]:
    async with sessions() as session:
        rows = await session.execute(
            select(DirectoryReminder.kind, DirectoryReminder.due_at)
            .where(DirectoryReminder.organisation == org)
            .order_by(DirectoryReminder.sent_at, DirectoryReminder.kind)
        )
        return [(k, d) for k, d in rows.all()]


async def alerts_to(client: httpx.AsyncClient, org: str) -> list[dict[str, Any]]:
    r = await client.get("/api/alerts", params={"organisation": org})
    assert r.status_code == 200, r.text
    return list(r.json()["alerts"])


async def test_reminders_go_before_due_and_when_overdue_once_per_period(
    client_for: Any, orgs: Pair, sessions: Sessions, settings: Settings
) -> None:
    a, _ = orgs
    coord = client_for("coord")
    await a.spoc.post("/api/directory", json=entry(None))
    await coord.patch(f"/api/directory/{a.code}/schedule", json={"confirm_days": 10})
    due = datetime.fromisoformat(
        (await a.spoc.post(f"/api/directory/{a.code}/confirm")).json()["due_at"]
    )
    now = [due - timedelta(days=3)]
    worker = reminders(sessions, settings, now)

    await worker.step()
    assert await sent_to(sessions, a.code) == [], "nothing before the reminder days"

    now[0] = due - timedelta(days=1)
    await worker.step()
    await worker.step()
    assert await sent_to(sessions, a.code) == [("due_soon", due)]
    (alert,) = await alerts_to(coord, a.code)
    assert alert["origin"] == "manual" and alert["created_by"] == "system:directory"
    assert "confirmez vos contacts" in alert["texts"]["fr"]["headline"]
    assert [x["id"] for x in await alerts_to(a.spoc, a.code)] == [alert["id"]]

    now[0] = due + timedelta(hours=1)
    await worker.step()
    now[0] = due + timedelta(days=5)
    await worker.step()
    assert await sent_to(sessions, a.code) == [("due_soon", due), ("overdue", due)]
    latest = (await alerts_to(coord, a.code))[0]
    assert "en retard" in latest["texts"]["fr"]["headline"]
    assert len(await alerts_to(coord, a.code)) == 2

    # Confirmed again: a new period, whose reminders go again, once.
    again = datetime.fromisoformat(
        (await a.spoc.post(f"/api/directory/{a.code}/confirm")).json()["due_at"]
    )
    now[0] = again + timedelta(days=1)
    await worker.step()
    await worker.step()
    assert await sent_to(sessions, a.code) == [
        ("due_soon", due),
        ("overdue", due),
        ("overdue", again),  # found overdue: the milder reminder is not sent after it
    ]
    assert len(await alerts_to(coord, a.code)) == 3


async def test_no_reminder_goes_to_an_organisation_without_active_entries(
    client: httpx.AsyncClient, orgs: Pair, sessions: Sessions, settings: Settings
) -> None:
    a, b = orgs
    made = (await client.post("/api/directory", json=entry(b.code, active=False))).json()
    now = [utcnow() + timedelta(days=400)]
    policy = Policy.of(settings)
    async with sessions() as session:
        owed = {r.organisation for r in await directory.reminders_due(session, policy, now[0])}
    assert a.code not in owed and b.code not in owed
    await client.patch(f"/api/directory/{made['id']}", json={"active": True})
    async with sessions() as session:
        owed = {r.organisation for r in await directory.reminders_due(session, policy, now[0])}
    assert b.code in owed


async def test_the_overdue_report_names_who_is_late_or_never_confirmed(
    client_for: Any, orgs: Pair, sessions: Sessions, settings: Settings
) -> None:
    a, b = orgs
    op, off = client_for("op"), client_for("off")
    await a.spoc.post("/api/directory", json=entry(None))
    await a.spoc.post(f"/api/directory/{a.code}/confirm")
    await b.spoc.post("/api/directory", json=entry(None))

    r = await off.get("/api/directory/reports/overdue")
    assert r.status_code == 200, r.text
    listed = {s["organisation"]: s for s in r.json()["organisations"]}
    assert a.code not in listed
    assert listed[b.code]["state"] == "never_confirmed" and listed[b.code]["active_entries"] == 1
    assert (await a.spoc.get("/api/directory/reports/overdue")).status_code == 403

    policy = Policy.of(settings)
    later = utcnow() + timedelta(days=183)
    async with sessions() as session:
        late = {s.organisation: s for s in await directory.overdue(session, policy, later)}
    assert late[a.code].state == "overdue" and late[a.code].confirmed_by == a.username
    assert late[b.code].state == "never_confirmed"
    # The longest overdue first: A's period ran from its confirmation, B's first one from its
    # first entry, recorded after it.
    assert late[a.code].due_at < late[b.code].due_at  # type: ignore[operator]
    assert [c for c in late if c in (a.code, b.code)] == [a.code, b.code]
    await op.post(f"/api/directory/{b.code}/confirm")
    r = await op.get("/api/directory/reports/overdue")
    assert b.code not in {s["organisation"] for s in r.json()["organisations"]}


async def test_a_reminder_that_cannot_be_sent_is_set_aside_and_the_loop_goes_on(
    client_for: Any, orgs: Pair, sessions: Sessions, settings: Settings
) -> None:
    """Alerting's settings here give a deadline no date can hold: creating the reminder's alert
    fails, every time. The loop tries it a few times, then records it as given up with a dead
    letter, and runs on."""
    a, _ = orgs
    coord = client_for("coord")
    await a.spoc.post("/api/directory", json=entry(None))
    await coord.patch(f"/api/directory/{a.code}/schedule", json={"confirm_days": 10})
    due = datetime.fromisoformat(
        (await a.spoc.post(f"/api/directory/{a.code}/confirm")).json()["due_at"]
    )
    now = [due - timedelta(days=1)]
    broken = AlertSettings(ack_deadline_seconds={"minor": 10**15})
    policy = settings.model_copy(update={"directory_reminder_days": 2})
    worker = DirectoryReminders(sessions, policy, broken, lambda: now[0])
    task = worker.loop.start()
    try:
        await eventually(lambda: worker.loop.stats.dead_letters == 1, "the reminder set aside")
        assert worker.loop.stats.running and not task.done()
        assert worker.loop.stats.unexpected == 3
    finally:
        await worker.loop.stop()
    async with sessions() as session:
        row = await session.get(DirectoryReminder, (a.code, due, "due_soon"))
        assert row is not None and row.alert_id is None
        letters = await dead_letters(session)
    assert any(
        d["worker"] == "directory-reminders" and a.code in d["item"] for d in letters["latest"]
    )
    assert await alerts_to(coord, a.code) == [], "no half-made alert"
