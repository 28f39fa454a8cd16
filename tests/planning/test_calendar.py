"""The exercise calendar (issue 18, §2): exercises (FTX, table-top, alarm tests) with their
partners, objectives and documents, beside the planned events, clashes flagged; a partner's
calendar holds only what is shared with it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.samples import feature, point, square

YEAR = 2037  # a year of its own: the session's other tests plan in other years


async def _event(client: httpx.AsyncClient, **props: Any) -> dict[str, Any]:
    body = feature(square(4.3622, 50.8417), **props)
    r = await client.post("/api/events", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_exercises_show_their_partners_objectives_documents_and_clashes(
    client: httpx.AsyncClient,
) -> None:
    ftx = await _event(
        client,
        title="FTX Gaz — pénurie hivernale",
        kind="exercise",
        starts_at=f"{YEAR}-03-10T08:00:00+01:00",
        ends_at=f"{YEAR}-03-10T17:00:00+01:00",
        objectives="Tester l'activation du GCC et la diffusion d'alertes aux partenaires",
        participants=["pz-5339", "pz-5340"],
    )
    tabletop = await _event(
        client,
        title="Table-top inondations",
        kind="table_top",
        starts_at=f"{YEAR}-06-02T09:00:00+02:00",
        ends_at=f"{YEAR}-06-02T12:00:00+02:00",
    )
    alarm = await _event(
        client,
        title="Test d'alerte trimestriel",
        kind="alarm_test",
        starts_at=f"{YEAR}-12-31T23:30:00+01:00",
        ends_at=f"{YEAR + 1}-01-01T00:30:00+01:00",
    )
    # A match the same afternoon as the FTX, elsewhere: a clash (the same people are needed).
    match = await _event(
        client,
        title="Match au stade",
        kind="sports_match",
        starts_at=f"{YEAR}-03-10T15:00:00+01:00",
        ends_at=f"{YEAR}-03-10T22:00:00+01:00",
    )
    cancelled = await _event(
        client,
        title="Festival annulé",
        kind="festival",
        starts_at=f"{YEAR}-06-02T10:00:00+02:00",
        ends_at=f"{YEAR}-06-02T20:00:00+02:00",
    )
    r = await client.patch(
        f"/api/events/{cancelled['id']}",
        json={"type": "Feature", "properties": {"status": "cancelled"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/api/documents",
        params={
            "subject_entity": "planned_event",
            "subject_id": ftx["id"],
            "filename": "scenario.txt",
            "title": "Scénario de l'exercice",
        },
        content=b"Scenario\n",
    )
    assert r.status_code == 201, r.text

    year = (await client.get("/api/calendar", params={"year": YEAR})).json()
    exercises = {e["id"]: e for e in year["exercises"]}
    assert list(exercises) == [ftx["id"], tabletop["id"], alarm["id"]], "by start"
    first = exercises[ftx["id"]]
    assert first["kind"] == "exercise"
    assert first["participants"] == ["pz-5339", "pz-5340"]
    assert first["objectives"].startswith("Tester l'activation")
    assert first["documents"] == 1
    assert [c["id"] for c in first["clashes"]] == [match["id"]]
    assert exercises[tabletop["id"]]["clashes"] == [], "a cancelled festival is no clash"
    assert match["id"] in [e["id"] for e in year["events"]]
    assert cancelled["id"] not in [e["id"] for e in year["events"]]

    # An alarm test over New Year belongs to both years, and a month shows its own.
    assert alarm["id"] in [
        e["id"]
        for e in (await client.get("/api/calendar", params={"year": YEAR + 1})).json()["exercises"]
    ]
    june = (await client.get("/api/calendar", params={"year": YEAR, "month": 6})).json()
    assert [e["id"] for e in june["exercises"]] == [tabletop["id"]]
    assert june["from"].startswith(f"{YEAR}-06-01T00:00:00+02:00")


async def test_a_partner_sees_only_the_exercises_and_clashes_shared_with_it(
    client: httpx.AsyncClient, client_for: Any
) -> None:
    window = {
        "starts_at": f"{YEAR}-09-15T09:00:00+02:00",
        "ends_at": f"{YEAR}-09-15T12:00:00+02:00",
    }
    shared = await _event(
        client, title="Alarm test PZ 5339", kind="alarm_test", shared_with=["pz-5339"], **window
    )
    hidden = await _event(client, title="Visite interne", kind="official_visit", **window)
    mine = (await client_for("part").get("/api/calendar", params={"year": YEAR})).json()
    (exercise,) = [e for e in mine["exercises"] if e["id"] == shared["id"]]
    assert exercise["clashes"] == [], "the internal visit is not told, even as a clash"
    assert hidden["id"] not in str(mine)
    theirs = (await client_for("part-b").get("/api/calendar", params={"year": YEAR})).json()
    assert shared["id"] not in str(theirs)
    staff = (await client.get("/api/calendar", params={"year": YEAR})).json()
    (seen,) = [e for e in staff["exercises"] if e["id"] == shared["id"]]
    assert [c["id"] for c in seen["clashes"]] == [hidden["id"]]


async def test_exercise_fields_are_checked_and_bad_calendar_queries_refused(
    client: httpx.AsyncClient,
) -> None:
    body = feature(
        point(4.35, 50.85),
        title="FTX",
        kind="exercise",
        starts_at=f"{YEAR}-04-01T08:00:00+02:00",
        ends_at=f"{YEAR}-04-01T12:00:00+02:00",
        participants=["no-such-partner"],
    )
    r = await client.post("/api/events", json=body)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "properties", "participants"]
    for params in ({"year": "1800"}, {"year": YEAR, "month": "13"}, {"year": "x"}):
        r = await client.get("/api/calendar", params=params)
        assert r.status_code == 422, r.text
