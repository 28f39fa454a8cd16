"""Escalation with an injected clock: an alert not acknowledged by its deadline goes to the
partner's next on-duty SPOC, then is flagged to SITCEN; an acknowledgement ends it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.settings import AlertSettings
from app.alerts.workers.escalation import escalate_due
from tests.alerts.conftest import Inbox, alerts_of, incident, place, square
from tests.conftest import eventually

Sessions = async_sessionmaker[AsyncSession]


async def _escalate(sessions: Sessions, now: datetime) -> list[Any]:
    async with sessions() as session, session.begin():
        return await escalate_due(session, AlertSettings(), now)


async def test_unacknowledged_alert_goes_to_the_next_spoc_then_to_sitcen(
    make_partner: Any, client: httpx.AsyncClient, sessions: Sessions, inbox: Inbox
) -> None:
    partner = await make_partner()
    await partner.channel("email")
    first, second = f"first@{partner.code}.test", f"second@{partner.code}.test"
    await partner.contact("Premier", "fr", 0, email=first)
    await partner.contact("Tweede", "nl", 1, email=second)
    await partner.contact("Off duty", "en", 2, email=f"off@{partner.code}.test", active=False)
    lon, lat = place()
    await partner.subscribe(area_kind="polygon", polygon=square(lon, lat))
    body = incident(lon, lat, severity="extreme", title="Explosion entrepôt")
    assert (await client.post("/api/incidents", json=body)).status_code == 201
    (alert,) = await eventually(lambda: alerts_of(client, partner.code), "the alert")
    await eventually(lambda: inbox.to(first), "the first SPOC's e-mail")
    deadline = datetime.fromisoformat(alert["recipients"][0]["deadline_at"])
    assert deadline - datetime.fromisoformat(alert["sent_at"]) == timedelta(
        seconds=AlertSettings().deadline_for("extreme")
    )

    mine = [
        s
        for s in await _escalate(sessions, deadline - timedelta(seconds=1))
        if s.organisation == partner.code
    ]
    assert mine == [], "nothing escalates before the deadline"

    steps = await _escalate(sessions, deadline + timedelta(seconds=1))
    (step,) = [s for s in steps if s.organisation == partner.code]
    assert step.level == 1 and not step.flagged
    (mail,) = await eventually(lambda: inbox.to(second), "the second SPOC's e-mail")
    assert mail["Content-Language"] == "nl"
    (recipient,) = (await client.get(f"/api/alerts/{alert['id']}")).json()["recipients"]
    assert recipient["level"] == 1 and recipient["escalated_at"]
    later = datetime.fromisoformat(recipient["deadline_at"])
    assert later > deadline

    steps = await _escalate(sessions, later + timedelta(seconds=1))
    (step,) = [s for s in steps if s.organisation == partner.code]
    assert step.flagged, "no SPOC left: flagged to the SITCEN operator"
    assert inbox.to(f"off@{partner.code}.test") == []
    flagged = (await client.get("/api/alerts/escalations")).json()["escalations"]
    (entry,) = [e for e in flagged if e["alert"] == alert["id"]]
    assert entry["flagged_at"] and entry["organisation"] == partner.code

    r = await client.post(f"/api/alerts/{alert['id']}/ack", json={"organisation": partner.code})
    assert r.status_code == 200
    flagged = (await client.get("/api/alerts/escalations")).json()["escalations"]
    assert alert["id"] not in [e["alert"] for e in flagged]


async def test_acknowledged_alert_does_not_escalate(
    make_partner: Any, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    partner = await make_partner()
    lon, lat = place()
    await partner.subscribe(area_kind="polygon", polygon=square(lon, lat))
    body = incident(lon, lat, severity="extreme")
    assert (await client.post("/api/incidents", json=body)).status_code == 201
    (alert,) = await eventually(lambda: alerts_of(client, partner.code), "the alert")
    await client.post(f"/api/alerts/{alert['id']}/ack", json={"organisation": partner.code})
    deadline = datetime.fromisoformat(alert["recipients"][0]["deadline_at"])
    steps = await _escalate(sessions, deadline + timedelta(hours=1))
    assert [s for s in steps if s.organisation == partner.code] == []
