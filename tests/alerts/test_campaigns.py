"""Alarm tests: a Test alert to a set of partners, reported per partner by time to
acknowledge or no answer, as JSON and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests.alerts.conftest import Receiver
from tests.conftest import eventually


async def test_alarm_test_reports_time_to_acknowledge_per_partner(
    make_partner: Any, client_for: Any, receiver: Receiver
) -> None:
    coord = client_for("coord")
    quick, slow, silent = await make_partner(), await make_partner(), await make_partner()
    hook = await quick.webhook(receiver)
    spoc = await quick.user()
    r = await coord.post(
        "/api/campaigns",
        json={"name": "Test mensuel", "organisations": [quick.code, slow.code, silent.code]},
    )
    assert r.status_code == 201, r.text
    campaign = r.json()
    assert campaign["summary"] == {
        "partners": 3,
        "answered": 0,
        "no_answer": 3,
        "median_seconds_to_ack": None,
        "max_seconds_to_ack": None,
    }
    (body,) = await eventually(lambda: list(hook.processed.values()), "the test alert")
    assert body["alert"]["status"] == "Test" and body["alert"]["origin"] == "campaign"

    try:
        assert (await spoc.post(f"/api/alerts/{campaign['alert']}/ack")).status_code == 200
    finally:
        await spoc.aclose()
    phoned = {"organisation": slow.code}
    assert (
        await coord.post(f"/api/alerts/{campaign['alert']}/ack", json=phoned)
    ).status_code == 200

    report = (await coord.get(f"/api/campaigns/{campaign['id']}")).json()
    rows = {p["organisation"]: p for p in report["partners"]}
    assert rows[quick.code]["answered"] and rows[quick.code]["ack_via"] == "rest"
    assert rows[slow.code]["ack_via"] == "on_behalf"
    assert not rows[silent.code]["answered"] and rows[silent.code]["seconds_to_ack"] is None
    assert rows[quick.code]["seconds_to_ack"] >= 0
    assert report["summary"]["answered"] == 2 and report["summary"]["no_answer"] == 1

    listed = (await coord.get("/api/campaigns")).json()["campaigns"]
    assert campaign["id"] in [c["id"] for c in listed]

    r = await coord.get(f"/api/campaigns/{campaign['id']}/report.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    by_org = {row["organisation"]: row for row in table}
    assert (
        by_org[silent.code]["answered"] == "False" and by_org[silent.code]["seconds_to_ack"] == ""
    )
    assert float(by_org[quick.code]["seconds_to_ack"]) == rows[quick.code]["seconds_to_ack"]


async def test_only_sitcen_runs_alarm_tests_and_partners_do_not_read_reports(
    client_for: Any,
) -> None:
    body = {"name": "x", "organisations": "all"}
    operator: httpx.AsyncClient = client_for("op")
    assert (await operator.post("/api/campaigns", json=body)).status_code == 403
    assert (await operator.get("/api/campaigns")).status_code == 200
    assert (await client_for("part").get("/api/campaigns")).status_code == 403
