"""GET /api/stats: for admins, coordinators and the High Official; bad input is a clear 4xx."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from app.reports.stats_formats import HEADLINE


@pytest.mark.parametrize("who", ["adm", "coord", "off", "reader-adm"])
async def test_the_lead_and_administrators_read_the_figures(client_for: Any, who: str) -> None:
    r = await client_for(who).get("/api/stats", params={"year": 2024})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["year"] == 2024 and body["timezone"] == "Europe/Brussels"
    for key in (*HEADLINE, "planned_events_by_kind", "by_month", "by_municipality"):
        assert key in body, key
    assert all(len(months) == 12 for months in body["by_month"].values())


@pytest.mark.parametrize("who", ["op", "part", "part-b", "dispatch-a", "reader-op"])
async def test_the_watch_partners_and_machines_are_refused(client_for: Any, who: str) -> None:
    r = await client_for(who).get("/api/stats", params={"year": 2024})
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_csv_is_the_same_table(client_for: Any) -> None:
    c = client_for("coord")
    table = (await c.get("/api/stats", params={"year": 2024})).json()
    r = await c.get("/api/stats", params={"year": 2024, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="sitcen-figures-2024.csv"' in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["figure", "breakdown", "value"]
    assert ["activations", "", str(table["activations"])] in rows


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"year": 1999}, "query.year"),
        ({"year": 3000}, "query.year"),
        ({"year": "MMXXIV"}, "year"),
        ({}, "year"),
        ({"year": 2024, "format": "xml"}, "format"),
    ],
)
async def test_bad_input_is_a_clear_problem(
    client_for: Any, params: dict[str, Any], where: str
) -> None:
    r = await client_for("off").get("/api/stats", params=params)
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert where in problem["detail"], problem
