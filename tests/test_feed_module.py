"""The change feed has one home (app/domain/changes.py): no other module of the service names
its tables in SQL or reads them through the ORM, so a new field on the change record touches
one file (issue 15)."""

from __future__ import annotations

import re
from pathlib import Path

from app.settings import PROJECT_ROOT

FEED_MODULE = Path("app/domain/changes.py")
FEED_TABLES = re.compile(
    r"\b(FROM|INTO|UPDATE|JOIN)\s+changes\b|\bfeed_counter\b|\bfeed_horizon\b|\bfeed_cursors\b"
    r"|\b(Change|FeedCounter|FeedHorizon|FeedCursor)\.",
)


def test_no_module_but_the_feeds_own_reads_or_writes_the_feed() -> None:
    offenders = []
    for path in sorted((PROJECT_ROOT / "app").rglob("*.py")):
        relative = path.relative_to(PROJECT_ROOT)
        if relative == FEED_MODULE:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if FEED_TABLES.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []


def test_the_check_sees_feed_sql() -> None:
    assert FEED_TABLES.search("SELECT seq FROM changes WHERE seq > $1")
    assert FEED_TABLES.search("UPDATE feed_cursors SET seq = $2 WHERE name = $1")
    assert FEED_TABLES.search("select(Change.op)")
    assert not FEED_TABLES.search("changes = [ChangeToEvaluate(*row) for row in rows]")
