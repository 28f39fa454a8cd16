"""Personal data: the purge blanks the personal fields of closed objects past their retention,
in the object and in the feed's history, as a recorded and audited change; the subject-access
export finds a named person everywhere, leaves secrets out and is audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.audit import AuditEvent
from app.domain.enums import Entity
from app.privacy.purge import PURGED, purge
from tests.conftest import Server, auth, eventually, incident, start_server, stop_server
from tests.test_cli import sitcen

# The test's objects closed and written in 1990: a retention of 30 years reaches them and
# nothing the other tests write now.
LONG_AGO = "1990-06-01T10:00:00+00:00"
CLOSED = "1990-06-02T10:00:00+00:00"
RETENTION = {
    Entity.incident: timedelta(days=365 * 30),
    Entity.logbook_entry: timedelta(days=365 * 30),
}


async def _incident(op: httpx.AsyncClient, person: str, *, closed: bool) -> dict[str, Any]:
    r = await op.post(
        "/api/incidents",
        json=incident(
            "Malaise place du Jeu de Balle",
            description=f"Appelant: {person}, 0475 12 34 56; victime consciente",
            occurred_at=LONG_AGO,
            reported_at=LONG_AGO,
        ),
    )
    assert r.status_code == 201, r.text
    feature = r.json()
    if closed:
        for version, status in ((1, "resolved"), (2, "closed")):
            r = await op.patch(
                f"/api/incidents/{feature['id']}",
                headers={"If-Match": f'"{version}"'},
                json={
                    "type": "Feature",
                    "properties": {"status": status, "closed_at": CLOSED},
                },
            )
            assert r.status_code == 200, r.text
        feature = r.json()
    return dict(feature)


async def _entry(op: httpx.AsyncClient, person: str, subject: dict[str, Any]) -> dict[str, Any]:
    r = await op.post(
        "/api/logbook",
        json={
            "type": "Feature",
            "geometry": None,
            "properties": {
                "title": f"Appel de {person}",
                "description": f"{person} rappellera",
                "occurred_at": LONG_AGO,
                "subject_entity": "incident",
                "subject_id": subject["id"],
            },
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _alert_about(
    sessions: async_sessionmaker[AsyncSession], subject: dict[str, Any]
) -> uuid.UUID:
    """An alert about the object, as a rule alert quotes it (app.alerts.lifecycle.compose)."""
    props = subject["properties"]
    body = f"{props['ref']} · fermé\n{props['description']}"
    alert_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        await session.execute(
            insert(Alert).values(
                id=alert_id,
                ref=f"ALR-T-{alert_id.hex[:10]}",
                status="Actual",
                msg_type="Alert",
                severity="Moderate",
                urgency="Immediate",
                certainty="Observed",
                categories=["Health"],
                event="Incident",
                texts={"fr": {"headline": f"Incident — {props['title']}", "description": body}},
                area_desc="Bruxelles",
                origin="rule",
                entity="incident",
                entity_id=uuid.UUID(subject["id"]),
                entity_ref=props["ref"],
                feature=subject,
                sent_at=datetime.now(UTC),
                created_by="system:alerts",
            )
        )
    return alert_id


async def _audit(sessions: async_sessionmaker[AsyncSession], kind: str) -> list[AuditEvent]:
    async with sessions() as session:
        rows = await session.scalars(select(AuditEvent).where(AuditEvent.kind == kind))
        return list(rows.all())


async def test_purge_blanks_personal_fields_of_closed_objects_and_their_history(
    server: Server, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = f"Jan Peeters-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(base_url=server.url, headers=auth(server, "op"), timeout=60) as op:
        closed = await _incident(op, person, closed=True)
        still_open = await _incident(op, person, closed=False)
        closed_note = await _entry(op, person, closed)
        open_note = await _entry(op, person, still_open)
        head = (await op.get("/api/changes", params={"since": 0, "limit": 1})).json()["head"]
        history = (await op.get(f"/api/incidents/{closed['id']}/history")).json()["changes"]
        at_closed = history[-1]["at"]
        alert_id = await _alert_about(sessions, closed)

        done = await purge(sessions, RETENTION, datetime.now(UTC))
        assert done is not None
        by_kind = {p.entity: p for p in done}
        assert closed["properties"]["ref"] in by_kind["incident"].refs
        assert still_open["properties"]["ref"] not in by_kind["incident"].refs
        assert closed_note["properties"]["ref"] in by_kind["logbook_entry"].refs
        assert open_note["properties"]["ref"] not in by_kind["logbook_entry"].refs

        # The facts stay, the personal fields go, as the object's next version by the system.
        now = (await op.get(f"/api/incidents/{closed['id']}")).json()["properties"]
        was = closed["properties"]
        assert now["description"] is None
        assert now["version"] == was["version"] + 1 and now["updated_by"] == "system:privacy"
        for fact in ("title", "category", "severity", "status", "closed_at", "municipality"):
            assert now[fact] == was[fact], fact
        note = (await op.get(f"/api/logbook/{closed_note['id']}")).json()["properties"]
        assert note["title"] == PURGED and note["description"] is None
        assert note["kind"] == "note" and note["created_by"] == "op"
        kept = (await op.get(f"/api/incidents/{still_open['id']}")).json()["properties"]
        assert person in kept["description"]
        kept = (await op.get(f"/api/logbook/{open_note['id']}")).json()["properties"]
        assert person in kept["title"]

        # The purge is in the feed, after everything before it, numbered without a gap...
        page = (await op.get("/api/changes", params={"since": head, "limit": 1000})).json()
        mine = [c for c in page["changes"] if c["by"] == "system:privacy"]
        assert {c["id"] for c in mine} >= {closed["id"], closed_note["id"]}
        assert all(c["op"] == "updated" for c in mine)
        seqs = [c["seq"] for c in page["changes"]]
        assert seqs == list(range(head + 1, head + 1 + len(seqs)))
        # ...and neither the history, the feed's replay nor time travel brings the name back.
        for oid in (closed["id"], still_open["id"]):
            history = (await op.get(f"/api/incidents/{oid}/history")).json()["changes"]
            assert [c["version"] for c in history] == sorted(c["version"] for c in history)
        history = (await op.get(f"/api/incidents/{closed['id']}/history")).json()["changes"]
        assert person not in str(history) and len(history) == was["version"] + 1
        then = (await op.get(f"/api/incidents/{closed['id']}", params={"at": at_closed})).json()
        assert then["properties"]["version"] == was["version"]
        assert then["properties"]["description"] is None
        replay = (
            await op.get("/api/changes", params={"since": max(0, head - 8), "limit": 1000})
        ).json()
        of_closed = [c for c in replay["changes"] if c["id"] in (closed["id"], closed_note["id"])]
        assert of_closed and person not in str(of_closed)
        open_history = (await op.get(f"/api/incidents/{still_open['id']}/history")).json()
        assert person in str(open_history)

    # The alert sent about it keeps who was told what, when; its texts no longer quote it.
    async with sessions() as session:
        alert = await session.get(Alert, alert_id)
        assert alert is not None and alert.feature is not None
        assert person not in str(alert.texts) and person not in str(alert.feature)
        assert PURGED in alert.texts["fr"]["description"]
        assert alert.texts["fr"]["headline"].startswith("Incident")
        assert alert.feature["properties"]["description"] is None

    audited = [
        e
        for e in await _audit(sessions, "personal_data_purged")
        if closed["properties"]["ref"] in e.detail["refs"]
    ]
    assert len(audited) == 1 and audited[0].actor == "system:privacy"
    assert audited[0].detail["fields"] == ["description"]
    assert audited[0].detail["history_records"] >= 3

    # Nothing left to purge: a second run writes nothing and records nothing.
    again = await purge(sessions, RETENTION, datetime.now(UTC))
    assert again == []


async def test_subject_access_export_finds_the_person_everywhere_and_is_audited(
    server: Server, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = f"Zébulon Marchetti-{uuid.uuid4().hex[:6]}"
    async with (
        httpx.AsyncClient(base_url=server.url, headers=auth(server, "op"), timeout=60) as op,
        httpx.AsyncClient(base_url=server.url, headers=auth(server, "adm"), timeout=120) as adm,
    ):
        inc = await _incident(op, person, closed=False)
        note = await _entry(op, person, inc)
        r = await adm.post("/api/privacy/subject-access", json={"name": person.upper()})
        assert r.status_code == 200, r.text
        assert "attachment" in r.headers["content-disposition"]
        body = r.json()
        found = body["found"]
        assert [row["id"] for row in found["incidents"]] == [inc["id"]]
        assert [row["id"] for row in found["logbook_entries"]] == [note["id"]]
        assert {c["entity_id"] for c in found["changes"]} == {inc["id"], note["id"]}
        assert "users" not in found
        assert "changes" in body["searched"] and "document_chunks" in body["not_searched"]

        # Everything the export holds is about the person: nothing else came along.
        assert all(person.lower() in str(rows).lower() for rows in found.values())

        # The users' own accounts are found by their names, without their secrets.
        r = await adm.post("/api/privacy/subject-access", json={"name": "part-b"})
        assert r.status_code == 200
        users = r.json()["found"]["users"]
        assert [u["username"] for u in users] == ["part-b"]
        assert "password_hash" not in str(users) and "$argon2" not in r.text

        r = await adm.post("/api/privacy/subject-access", json={"name": "ab"})
        assert r.status_code == 422 and "name" in r.text
        r = await op.post("/api/privacy/subject-access", json={"name": person})
        assert r.status_code == 403

    audited = [
        e for e in await _audit(sessions, "subject_access_export") if e.subject == person.upper()
    ]
    assert len(audited) == 1 and audited[0].actor == "adm"
    assert audited[0].detail["found"]["incidents"] == 1


async def test_the_service_purges_by_itself_once_a_retention_is_set(
    server: Server, settings: Any
) -> None:
    purging = start_server(
        settings,
        name="purging",
        extra_env={
            "SITCEN_PERSONAL_DATA_INCIDENT_DAYS": str(365 * 30),
            "SITCEN_PERSONAL_DATA_PURGE_INTERVAL_SECONDS": "0.5",
        },
    )
    try:
        person = f"Anna Claes-{uuid.uuid4().hex[:6]}"
        async with httpx.AsyncClient(
            base_url=server.url, headers=auth(server, "op"), timeout=60
        ) as op:
            closed = await _incident(op, person, closed=True)

            async def purged() -> bool:
                r = await op.get(f"/api/incidents/{closed['id']}")
                return r.json()["properties"]["description"] is None

            await eventually(purged, "the service's purge of the closed incident")
    finally:
        stop_server(purging)


async def test_an_ordered_erasure_blanks_the_named_objects_now(
    server: Server, settings: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = f"Lotte Maes-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(base_url=server.url, headers=auth(server, "op"), timeout=60) as op:
        still_open = await _incident(op, person, closed=False)
        ref = still_open["properties"]["ref"]

        refused = sitcen(settings, "privacy", "erase", ref, "INC-1990-999999")
        assert refused.returncode != 0 and "INC-1990-999999: no such object" in refused.stderr
        kept = (await op.get(f"/api/incidents/{still_open['id']}")).json()["properties"]
        assert person in kept["description"]

        done = sitcen(settings, "privacy", "erase", ref)
        assert done.returncode == 0, done.stderr
        now = (await op.get(f"/api/incidents/{still_open['id']}")).json()["properties"]
        assert now["description"] is None and now["status"] == "reported"
        history = (await op.get(f"/api/incidents/{still_open['id']}/history")).json()
        assert person not in str(history)

    audited = [e for e in await _audit(sessions, "personal_data_purged") if ref in e.detail["refs"]]
    assert len(audited) == 1 and audited[0].actor == "cli" and audited[0].detail["ordered"]
