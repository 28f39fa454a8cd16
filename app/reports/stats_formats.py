"""The annual figures as rows (figure, breakdown, value): for CSV, and as a table on the
terminal (`sitcen stats`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from app.text import csv_cell

CSV_COLUMNS = ("figure", "breakdown", "value")
# The headline figures, in the published table's order.
HEADLINE = (
    "activations",
    "activations_coordinated_by_sitcen",
    "planned_events",
    "demonstrations",
    "summits",
    "delegation_visits",
    "field_exercises",
    "incidents",
    "alerts_sent",
    "alert_recipients",
    "alerts_acknowledged",
    "alerts_median_seconds_to_ack",
    "alarm_tests",
    "alarm_test_recipients",
    "alarm_test_answered",
    "alarm_test_answer_rate",
)
BREAKDOWNS = (
    "planned_events_by_kind",
    "activations_by_level",
    "activations_by_coordinator",
    "incidents_by_category",
    "incidents_by_severity",
    "exercise_objects",
    "cancelled",
)


# What `sitcen stats --format` writes.
FORMATS = ("table", "json", "csv")


Row = tuple[str, str, Any]


def rows(table: dict[str, Any]) -> Iterator[Row]:
    """Every figure of the table as (figure, breakdown, value): the headline figures with an
    empty breakdown, then the breakdowns, each alarm test, each month and each municipality."""
    year = table["year"]
    for key in HEADLINE:
        yield key, "", table[key]
    for key in BREAKDOWNS:
        for part, value in table[key].items():
            yield key, part, value
    for test in table["alarm_test_campaigns"]:
        for key in ("sent_at", "partners", "answered", "answer_rate", "median_seconds_to_ack"):
            yield f"alarm_test.{key}", test["name"], test[key]
    for series, months in table["by_month"].items():
        for month, value in enumerate(months, start=1):
            yield f"by_month.{series}", f"{year}-{month:02d}", value
    for place in table["by_municipality"]:
        for series in table["by_month"]:
            yield f"by_municipality.{series}", f"{place['code']} {place['name_fr']}", place[series]


def as_csv(table: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows(table):
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def as_text(table: dict[str, Any]) -> str:
    """A table to read on a terminal: the headline figures, then each breakdown."""
    lines = [f"Annual figures {table['year']} (calendar year in {table['timezone']})", ""]
    width = max(len(k) for k in HEADLINE)
    lines += [f"  {key:<{width}}  {_shown(table[key]):>10}" for key in HEADLINE]
    for key in BREAKDOWNS:
        lines += ["", key]
        part_width = max((len(p) for p in table[key]), default=0)
        lines += [f"  {p:<{part_width}}  {_shown(v):>6}" for p, v in table[key].items()]
    if table["alarm_test_campaigns"]:
        lines += ["", "alarm tests (answered / partners, median seconds to acknowledge)"]
        for t in table["alarm_test_campaigns"]:
            lines.append(
                f"  {t['sent_at'][:10]}  {t['answered']:>3} / {t['partners']:<3} "
                f"{_shown(t['median_seconds_to_ack']):>7}  {t['name']}"
            )
    months = " ".join(f"{m:>4}" for m in range(1, 13))
    lines += ["", f"by month{'':<{width - 8}}  {months}"]
    for series, values in table["by_month"].items():
        lines.append(f"  {series:<{width - 2}}  {' '.join(f'{v:>4}' for v in values)}")
    return "\n".join(lines) + "\n"
