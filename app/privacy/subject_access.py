"""Everything held about a named person, for a subject-access request (GDPR art. 15;
docs/privacy.md).

Complete by construction: every table of the database is searched, row by row and every column
(a row's JSON text, case-insensitive), so a table added later is searched too. Left out: what
holds no one's words (reference layers, the feed's counters) and the files' bytes (their
metadata, in `documents`, is searched; the file itself is read by the DPO from the document
library). Secrets (password, key and token hashes, channel secrets) are never exported.

The name is searched as written: a spelling without its accents, or a nickname, is another
search. A match in the change feed is the history of an object: each record is the object's
state after a write (what `?at=` shows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import driver
from app.domain import changes
from app.domain.objects import like_pattern

# Tables that hold no one's words, and why (the answer lists them, so the DPO knows).
NOT_SEARCHED = {
    "alembic_version": "the schema's version",
    "spatial_ref_sys": "coordinate systems (PostGIS)",
    "reference_areas": "the Region's reference layers (municipalities, police zones)",
    "reference_area_parts": "the Region's reference layers",
    **changes.BOOKKEEPING_TABLES,
    "document_chunks": "the documents' bytes: their names and descriptions (documents) are "
    "searched; read the files themselves in the document library",
    "document_blobs": "the documents' sizes",
    "refresh_tokens": "token hashes",
}
# Columns never exported (they would let whoever holds the export act as someone).
SECRET_COLUMNS = ("password_hash", "key_hash", "token_hash", "secret")
# Rows per table in the answer: beyond, the count says how many more there are.
ROWS_MAX = 5000
MIN_NAME = 3

_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public' AND NOT c.relispartition
ORDER BY c.relname
"""


@dataclass(frozen=True)
class Export:
    body: dict[str, Any]

    @property
    def counts(self) -> dict[str, int]:
        return {t: len(rows) for t, rows in self.body["found"].items()}


# A row mentions the name whatever its case, accented letters included: ICU's lower case, not
# the database's ctype (a cluster made with the C locale folds only ASCII: "É" stays "É").
_ICU = 'COLLATE "und-x-icu"'
_MENTIONS = f"lower(to_jsonb(t)::text {_ICU}) LIKE lower($1::text {_ICU})"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def export(session: AsyncSession, name: str, requested_by: str) -> Export:
    """Every row of every searched table that mentions `name`, secrets left out. In the
    caller's transaction, which reads one snapshot of the whole database."""
    db = await driver(session)
    # One consistent picture across tables; a long scan of a large feed is allowed its time.
    await db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    await db.execute("SET LOCAL statement_timeout = '300s'")
    pattern = like_pattern(name)
    hidden = "ARRAY[" + ", ".join(f"'{c}'" for c in SECRET_COLUMNS) + "]"
    found: dict[str, list[Any]] = {}
    more: dict[str, int] = {}
    searched: list[str] = []
    for (table,) in await db.fetch(_TABLES):
        if table in NOT_SEARCHED:
            continue
        searched.append(table)
        q = _quoted(table)
        rows = await db.fetch(
            f"SELECT (to_jsonb(t) - {hidden})::text FROM {q} t "
            f"WHERE {_MENTIONS} LIMIT {ROWS_MAX + 1}",
            pattern,
        )
        if rows:
            found[table] = [orjson.loads(r[0]) for r in rows[:ROWS_MAX]]
        if len(rows) > ROWS_MAX:
            more[table] = int(
                await db.fetchval(f"SELECT count(*) FROM {q} t WHERE {_MENTIONS}", pattern)
            )
    return Export(
        {
            "name": name,
            "generated_at": datetime.now(UTC).isoformat(),
            "generated_by": requested_by,
            "found": found,
            "truncated": more,
            "searched": searched,
            "not_searched": NOT_SEARCHED,
            "secrets_left_out": list(SECRET_COLUMNS),
        }
    )
