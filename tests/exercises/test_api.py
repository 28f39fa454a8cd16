"""Exercises through the API of a real server, whose own runner plays the runs: controllers
start, pause, resume, speed up and stop; partners who play see only what is shared with them;
the real picture never shows an exercise; response times and the after-action report."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import orjson
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.domain.incident import Incident
from app.exercises.models import ExerciseScenario
from tests.conftest import eventually
from tests.exercises.helpers import (
    FUTURE,
    incident_inject,
    message_inject,
    minutes,
    play,
    scenario,
    start,
    state,
    timed,
)

JSON = {"Content-Type": "application/json"}


async def upload(coord: httpx.AsyncClient, data: dict[str, Any]) -> dict[str, Any]:
    r = await coord.post("/api/exercise-scenarios", content=orjson.dumps(data), headers=JSON)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def run_of(coord: httpx.AsyncClient, scenario_id: str, speed: float = 1) -> dict[str, Any]:
    r = await coord.post(f"/api/exercise-scenarios/{scenario_id}/runs", json={"speed": speed})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def played(coord: httpx.AsyncClient, run_id: str, n: int) -> dict[str, Any] | None:
    run = (await coord.get(f"/api/exercise-runs/{run_id}")).json()
    return run if run["progress"]["played"] >= n else None


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-"), data[:20]
    text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return "".join(text.replace("\x00", "").split())


async def test_controllers_start_pause_resume_speed_and_stop_a_run(client_for: Any) -> None:
    coord: httpx.AsyncClient = client_for("coord")
    kept = await upload(coord, timed())
    run = await run_of(coord, kept["id"])
    assert (run["status"], run["speed"], run["progress"]["total"]) == ("running", 1.0, 4)
    assert (
        await coord.post(f"/api/exercise-scenarios/{kept['id']}/runs", json={})
    ).status_code == 409

    url = f"/api/exercise-runs/{run['id']}/control"
    paused = await coord.post(url, json={"action": "pause"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    again = await coord.post(url, json={"action": "pause"})
    assert again.status_code == 409 and "paused" in again.json()["detail"]
    assert (await coord.post(url, json={"action": "speed"})).status_code == 422
    too_fast = await coord.post(url, json={"action": "speed", "speed": 10_000})
    assert too_fast.status_code == 422
    assert too_fast.json()["errors"][0]["loc"] == ["body", "speed"]
    faster = await coord.post(url, json={"action": "speed", "speed": 60})
    assert (faster.json()["status"], faster.json()["speed"]) == ("paused", 60.0)
    resumed = await coord.post(url, json={"action": "resume"})
    assert resumed.json()["status"] == "running"
    stopped = await coord.post(url, json={"action": "stop"})
    assert stopped.json()["status"] == "stopped" and stopped.json()["ended_at"]
    assert [e["action"] for e in stopped.json()["log"]] == [
        "start",
        "pause",
        "speed",
        "resume",
        "stop",
    ]
    assert {e["by"] for e in stopped.json()["log"]} == {"coord"}
    assert (await coord.post(url, json={"action": "resume"})).status_code == 409
    listed = (await coord.get("/api/exercise-runs", params={"scenario": kept["id"]})).json()
    assert [r["id"] for r in listed["runs"]] == [run["id"]]
    # A stopped run frees its scenario for another.
    second = await run_of(coord, kept["id"])
    await coord.post(f"/api/exercise-runs/{second['id']}/control", json={"action": "stop"})
    assert (await coord.delete(f"/api/exercise-scenarios/{kept['id']}")).status_code == 409


async def test_players_have_no_access_to_scenarios_or_runs(client_for: Any) -> None:
    coord, op, off, part = (client_for(w) for w in ("coord", "op", "off", "part"))
    kept = await upload(coord, scenario(incident_inject("2:00", "later")))
    for player in (op, part):
        assert (await player.get("/api/exercise-scenarios")).status_code == 403
        assert (await player.get(f"/api/exercise-scenarios/{kept['id']}")).status_code == 403
    assert (await off.get(f"/api/exercise-scenarios/{kept['id']}")).status_code == 403
    assert (await coord.delete(f"/api/exercise-scenarios/{kept['id']}")).status_code == 204


async def test_partner_players_see_the_exercise_objects_shared_with_them_only(
    client_for: Any,
) -> None:
    coord, op, part, part_b = (client_for(w) for w in ("coord", "op", "part", "part-b"))
    marker = uuid.uuid4().hex[:8]
    data = scenario(
        incident_inject("0:00", "shared", title=f"Partagé {marker}", shared_with=["pz-5339"]),
        incident_inject("0:00", "internal", title=f"Interne {marker}"),
        message_inject("0:00", ["pz-5339"], about="shared"),
        players=["pz-5339"],
    )
    run = await run_of(coord, (await upload(coord, data))["id"])
    progress = await eventually(lambda: played(coord, run["id"], 3), "the injects at 0:00")

    async def titles(client: httpx.AsyncClient, exercise: str | None) -> list[str]:
        params = {"q": marker, **({"exercise": exercise} if exercise else {})}
        r = await client.get("/api/incidents", params=params)
        assert r.status_code == 200, r.text
        return sorted(f["properties"]["title"] for f in r.json()["features"])

    # The real picture (exercise=false, as the dashboard asks by default) shows none of it.
    assert await titles(op, "false") == []
    assert await titles(op, "true") == [f"Interne {marker}", f"Partagé {marker}"]
    assert await titles(part, "true") == [f"Partagé {marker}"]
    assert await titles(part, "false") == []
    assert await titles(part_b, "true") == []
    assert await titles(part_b, None) == []

    alerts = (await part.get("/api/alerts", params={"limit": 50})).json()["alerts"]
    shared = progress["injects"][0]["entity_id"]
    (mine,) = [a for a in alerts if a["entity_id"] == shared and a["origin"] == "exercise"]
    assert mine["status"] == "Exercise"
    cap = await part.get(f"/api/alerts/{mine['id']}.cap")
    assert cap.status_code == 200
    assert "<status>Exercise</status>" in cap.text
    assert (await part_b.get(f"/api/alerts/{mine['id']}")).status_code == 404
    await coord.post(f"/api/exercise-runs/{run['id']}/control", json={"action": "stop"})


async def test_response_times_and_the_after_action_report(client_for: Any) -> None:
    coord, op, off, part = (client_for(w) for w in ("coord", "op", "off", "part"))
    marker = uuid.uuid4().hex[:8]
    data = scenario(
        incident_inject("0:00", "leak", title=f"Fuite {marker}", shared_with=["pz-5339"]),
        message_inject("0:00", ["pz-5339"], about="leak"),
        incident_inject("3:00", "never", title=f"Jamais {marker}"),
        players=["pz-5339"],
    )
    data["title"] = {"fr": f"Exercice {marker}", "nl": f"Oefening {marker}"}
    run = await run_of(coord, (await upload(coord, data))["id"])
    progress = await eventually(lambda: played(coord, run["id"], 2), "the injects at 0:00")
    leak, message, never = progress["injects"]
    assert (leak["state"], message["state"], never["state"]) == ("played", "played", "upcoming")

    # The watch notes it in the logbook, then confirms it; the partner acknowledges.
    note = {
        "type": "Feature",
        "geometry": None,
        "properties": {
            "title": "Sibelga confirme la coupure",
            "subject_entity": "incident",
            "subject_id": leak["entity_id"],
            "exercise": True,
        },
    }
    assert (await op.post("/api/logbook", json=note)).status_code == 201
    current = (await op.get(f"/api/incidents/{leak['entity_id']}")).json()
    patched = await op.patch(
        f"/api/incidents/{leak['entity_id']}",
        json={"type": "Feature", "properties": {"status": "confirmed"}},
        headers={"If-Match": f'"{current["properties"]["version"]}"'},
    )
    assert patched.status_code == 200, patched.text
    assert (await part.post(f"/api/alerts/{message['alert_id']}/ack")).status_code == 200

    r = await off.get(f"/api/exercise-runs/{run['id']}/responses")
    assert r.status_code == 200, r.text
    first, second, third = r.json()["responses"]
    assert (first["first_action_by"], first["first_action"]) == ("op", "logbook")
    assert first["response_seconds"] >= 0
    assert second["acknowledged_by"].endswith("(pz-5339)")
    assert second["acknowledgement_seconds"] >= 0
    assert first["acknowledged_at"] == second["acknowledged_at"]  # the message was about it
    assert (third["played_at"], third["response_seconds"]) == ("", "")

    csv_answer = await off.get(f"/api/exercise-runs/{run['id']}/responses.csv")
    assert csv_answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_answer.text)))
    assert [row["kind"] for row in rows] == ["create", "message", "create"]
    assert float(rows[0]["response_seconds"]) == first["response_seconds"]

    html = await off.get(f"/api/exercise-runs/{run['id']}/report", params={"lang": "nl"})
    assert html.status_code == 200 and f"Oefening {marker}" in html.text
    assert "Evaluatieverslag" in html.text
    pdf = await off.get(f"/api/exercise-runs/{run['id']}/report.pdf", params={"lang": "fr"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert f"Exercice{marker}" in text and "Rapportaprèsexercice" in text
    assert f"Fuite{marker}" in text
    # The players read no report; the High Official reads it, but does not run exercises.
    assert (await op.get(f"/api/exercise-runs/{run['id']}/responses")).status_code == 403
    stop = {"action": "stop"}
    assert (await off.post(f"/api/exercise-runs/{run['id']}/control", json=stop)).status_code == 403
    assert (await coord.post(f"/api/exercise-runs/{run['id']}/control", json=stop)).is_success


async def test_the_example_scenario_is_loaded_and_played_through(
    client_for: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    coord: httpx.AsyncClient = client_for("coord")
    r = await coord.post("/api/exercise-scenarios/examples/gas-shortage")
    assert r.status_code == 201, r.text
    example = r.json()
    assert example["title"]["nl"].startswith("Gastekort")
    again = await coord.post("/api/exercise-scenarios/examples/gas-shortage")
    assert again.json()["id"] == example["id"]  # kept once
    assert (await coord.post("/api/exercise-scenarios/examples/nothing")).status_code == 404

    async with sessions() as session:
        row = await session.get_one(ExerciseScenario, uuid.UUID(example["id"]))
    run = await start(sessions, row, speed=1)
    found, _ = await play(sessions, run, FUTURE + minutes(120))
    assert len(found) == example["injects"] == 11
    async with sessions() as session:
        incidents = (
            await session.scalars(
                select(Incident).where(Incident.external_id.startswith(f"{run.id}:"))
            )
        ).all()
        alerts = (
            await session.scalars(
                select(Alert).where(
                    Alert.origin == "exercise", Alert.sent_at == FUTURE + minutes(120)
                )
            )
        ).all()
    assert sorted(i.status for i in incidents) == ["resolved", "resolved"]
    assert all(i.exercise for i in incidents)
    assert len(alerts) == 2 and {a.status for a in alerts} == {"Exercise"}
    assert all(a.texts["fr"]["headline"].startswith("EXERCICE") for a in alerts)
    assert all(a.texts["nl"]["headline"].startswith("OEFENING") for a in alerts)
    progress = await state(sessions, run, FUTURE + minutes(120))
    assert (progress["status"], progress["progress"]["failed"]) == ("finished", 0)
