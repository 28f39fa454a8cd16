"""Hotspot fiches (issue 17, item 3): incidents per Brussels week, police measures with their
validity and extensions, the comparison of every hotspot, and bad input answered as
problem+json with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.domain.enums import MeasureStatus, MeasureValidity, Trend
from app.domain.police_measure import validity
from app.reports.hotspots import trend
from tests.conftest import written_since
from tests.reports.hotspot_helpers import hotspot, incident, measure, note, task
from tests.samples import feature, square

PERIOD = {"from": "2025-03-03", "to": "2025-04-06"}  # five whole weeks, over the DST change


async def _fiche(client: httpx.AsyncClient, zone_id: str, **params: str) -> dict[str, Any]:
    r = await client.get(f"/api/hotspots/{zone_id}", params={**PERIOD, **params})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_incidents_count_in_the_brussels_week_they_happened_in(
    client: httpx.AsyncClient,
) -> None:
    zone, where = await hotspot(client)
    # Sunday 23:30 and Monday 00:30 in Brussels: both Sunday in UTC, two different weeks here.
    await incident(client, where, "2025-03-09T23:30:00+01:00")
    await incident(client, where, "2025-03-10T00:30:00+01:00")
    # The night summer time begins (30 March): Sunday 01:30 (UTC+1) and Monday 00:10 (UTC+2,
    # still Sunday in UTC).
    await incident(client, where, "2025-03-30T01:30:00+01:00")
    await incident(client, where, "2025-03-31T00:10:00+02:00")
    # In the previous period (five weeks before), an exercise, and one 200 m away: the first
    # counts for the comparison only, the others never.
    await incident(client, where, "2025-02-20T15:00:00+01:00")
    await incident(client, where, "2025-03-12T15:00:00+01:00", exercise=True)
    await incident(client, (where[0] + 0.003, where[1]), "2025-03-12T15:00:00+01:00")

    fiche = await _fiche(client, zone["id"])
    assert fiche["period"]["weeks"] == [
        "2025-03-03",
        "2025-03-10",
        "2025-03-17",
        "2025-03-24",
        "2025-03-31",
    ]
    assert fiche["period"]["previous_from"] == "2025-01-27"
    counts = fiche["incidents"]
    assert counts["weekly"] == [1, 1, 0, 1, 1]
    assert (counts["current"], counts["previous"], counts["change"]) == (4, 1, 3)
    assert counts["trend"] == "up"
    assert len(counts["recent"]) == 4
    # A range given mid-week counts its whole weeks.
    midweek = await _fiche(client, zone["id"], **{"from": "2025-03-05", "to": "2025-04-02"})
    assert midweek["incidents"]["weekly"] == [1, 1, 0, 1, 1]

    compared = (await client.get("/api/hotspots", params=PERIOD)).json()
    (row,) = [h for h in compared["hotspots"] if h["id"] == zone["id"]]
    assert (row["current"], row["previous"], row["trend"], row["weekly"]) == (
        4,
        1,
        "up",
        [1, 1, 0, 1, 1],
    )


def test_a_trend_needs_more_than_one_incident_and_a_tenth() -> None:
    assert trend(2, 1) == Trend.stable
    assert trend(3, 1) == Trend.up
    assert trend(0, 2) == Trend.down
    assert trend(105, 100) == Trend.stable
    assert trend(111, 100) == Trend.up


def test_a_measure_is_in_force_then_expiring_then_expired() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    end = datetime(2025, 7, 1, tzinfo=UTC)
    active = MeasureStatus.active
    assert validity(start, end, active, start - timedelta(seconds=1)) == MeasureValidity.upcoming
    assert validity(start, end, active, start) == MeasureValidity.in_force
    assert validity(start, end, active, end - timedelta(days=31)) == MeasureValidity.in_force
    assert validity(start, end, active, end - timedelta(days=30)) == MeasureValidity.expiring
    assert validity(start, end, active, end) == MeasureValidity.expired
    assert validity(start, None, active, end) == MeasureValidity.in_force
    revoked = MeasureStatus.revoked
    assert validity(start, end, revoked, start) == MeasureValidity.revoked


async def test_a_measure_extended_stays_in_force_and_the_feed_says_so(
    client: httpx.AsyncClient,
) -> None:
    zone, _ = await hotspot(client)
    m = await measure(client, zone["id"], reference="AB-2025-117")
    mid = "2025-03-15T12:00:00+01:00"
    after = "2025-07-02T12:00:00+02:00"
    (shown,) = (await _fiche(client, zone["id"], at=mid))["measures"]
    assert (shown["reference"], shown["validity"]) == ("AB-2025-117", "in_force")
    soon = await _fiche(client, zone["id"], at="2025-06-15T12:00:00+02:00")
    assert soon["measures"][0]["validity"] == "expiring"
    assert (await _fiche(client, zone["id"], at=after))["measures"][0]["validity"] == "expired"

    r = await client.post(
        f"/api/police_measures/{m['id']}/extend",
        json={
            "until": "2026-01-01T00:00:00+01:00",
            "reference": "AB-2025-201",
            "decided_at": "2025-06-20T10:00:00+02:00",
            "note": "Prolongation de six mois après évaluation",
        },
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert props["version"] == 2
    # The first end stays as it was; the end in force is the extension's.
    assert datetime.fromisoformat(props["valid_to"]) == datetime(2025, 6, 30, 22, tzinfo=UTC)
    assert datetime.fromisoformat(props["valid_until"]) == datetime(2025, 12, 31, 23, tzinfo=UTC)
    (extension,) = props["extensions"]
    assert extension["reference"] == "AB-2025-201"
    assert extension["previous_end"].startswith("2025-06-30T22:00:00")
    assert extension["recorded_by"] == "op"
    (shown,) = (await _fiche(client, zone["id"], at=after))["measures"]
    assert (shown["validity"], len(shown["extensions"])) == ("in_force", 1)

    history = (await client.get(f"/api/police_measures/{m['id']}/history")).json()["changes"]
    assert [(c["op"], c["version"]) for c in history] == [("created", 1), ("updated", 2)]
    assert history[-1]["feature"]["properties"]["extensions"][0]["reference"] == "AB-2025-201"


async def test_an_extension_that_does_not_extend_is_refused_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    zone, _ = await hotspot(client)
    m = await measure(client, zone["id"])
    url = f"/api/police_measures/{m['id']}/extend"
    v1 = {"If-Match": '"1"'}
    shorter = {
        "until": "2025-05-01T00:00:00+02:00",
        "reference": "AB-x",
        "decided_at": "2025-04-01T00:00:00+02:00",
    }
    r = await client.post(url, json=shorter, headers=v1)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == ["body", "until"]
    lapsed = {
        "until": "2026-01-01T00:00:00+01:00",
        "reference": "AB-y",
        "decided_at": "2025-07-03T00:00:00+02:00",
    }
    r = await client.post(url, json=lapsed, headers=v1)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "decided_at"]
    good = {"until": "2026-01-01T00:00:00+01:00", "reference": "AB-z", "decided_at": None}
    good["decided_at"] = "2025-06-01T00:00:00+02:00"
    assert (await client.post(url, json=good, headers={"If-Match": '"7"'})).status_code == 412
    assert (await client.post(url, json={**good, "until": "soon"}, headers=v1)).status_code == 422
    assert (await client.post(url, json=good)).status_code == 428
    read = (await client.get(f"/api/police_measures/{m['id']}")).json()["properties"]
    assert (read["version"], read["extensions"]) == (1, [])

    revoked = await client.patch(
        f"/api/police_measures/{m['id']}",
        json={"type": "Feature", "properties": {"status": "revoked"}},
        headers=v1,
    )
    assert revoked.status_code == 200, revoked.text
    r = await client.post(url, json=good, headers={"If-Match": '"2"'})
    assert r.status_code == 409, r.text


async def test_bad_input_is_answered_as_a_problem(client: httpx.AsyncClient) -> None:
    zone, _ = await hotspot(client)
    unknown = "0190b6c5-0000-7000-8000-000000000000"
    r = await client.get(f"/api/hotspots/{unknown}")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    perimeter = feature(square(4.36, 50.84, 0.001), title="Périmètre", kind="security_perimeter")
    other = (await client.post("/api/zones", json=perimeter)).json()
    r = await client.get(f"/api/hotspots/{other['id']}")
    assert r.status_code == 404 and "not a hotspot" in r.json()["detail"]
    for suffix in ("", "/export.csv", "/export.pdf"):
        r = await client.get(
            f"/api/hotspots/{zone['id']}{suffix}", params={"from": "2025-04-01", "to": "2025-03-01"}
        )
        assert r.status_code == 422, (suffix, r.text)
        assert r.json()["errors"][0]["loc"] == ["query", "to"]
    bad = [
        {"from": "2001-01-01", "to": "2025-01-01"},  # over three years of weeks
        {"from": "2025-13-01"},
        {"to": "yesterday"},
        {"at": "2025-03-01"},  # a time needs its zone
        {"from": "0001-01-01", "to": "0001-01-07"},
        {"to": "9999-12-31"},
    ]
    for params in bad:
        r = await client.get("/api/hotspots", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["loc"][0] == "query"
    assert (await client.get("/api/hotspots/not-an-id")).status_code in (404, 422)
    # A note evaluates hotspots only; refused, it is not written.
    before = (await client.get("/api/changes", params={"limit": 1})).json()["head"]
    r = await client.post(
        "/api/hotspot_notes",
        json=feature(None, title="Note", zone_ids=[other["id"]]),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"][-1] == "zone_ids"
    assert await written_since(client, before) == []


async def test_notes_are_written_once_with_their_author_and_date(
    client: httpx.AsyncClient,
) -> None:
    zone, _ = await hotspot(client)
    first = await note(client, zone["id"], author="Cheffe de la task force")
    correction = await note(
        client, zone["id"], title="Correction", corrects_id=first["id"], noted_at=None
    )
    r = await client.patch(
        f"/api/hotspot_notes/{first['id']}",
        json={"type": "Feature", "properties": {"title": "Réécrite"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 405
    notes = (await _fiche(client, zone["id"]))["notes"]
    assert [n["id"] for n in notes] == [correction["id"], first["id"]]
    assert notes[1]["author"] == "Cheffe de la task force" and notes[1]["recorded_by"] == "op"
    assert notes[1]["corrected_by"] == [correction["id"]]
    assert notes[0]["author"] == "op"


async def test_the_task_forces_tasks_are_overdue_as_at_the_fiches_time(
    client: httpx.AsyncClient,
) -> None:
    zone, _ = await hotspot(client)
    linked = await task(client, zone["id"], due_at="2025-04-01T12:00:00+02:00")
    about = await task(
        client, zone["id"], zone_ids=[], subject_entity="zone", subject_id=zone["id"]
    )
    before = await _fiche(client, zone["id"], at="2025-03-20T12:00:00+01:00")
    assert {t["id"] for t in before["tasks"]} == {linked["id"], about["id"]}
    assert not any(t["overdue"] for t in before["tasks"])
    after = await _fiche(client, zone["id"], at="2025-04-02T12:00:00+02:00")
    assert all(t["overdue"] for t in after["tasks"])
    compared = (await client.get("/api/hotspots", params=PERIOD)).json()
    (row,) = [h for h in compared["hotspots"] if h["id"] == zone["id"]]
    assert row["open_tasks"] == 2
