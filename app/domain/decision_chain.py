"""The tamper evidence of an activation's decision log: each decision carries a SHA-256 over its
content and the previous decision's hash (`prev_hash`), numbered 1, 2, 3… per activation
(`chain_seq`). Changing, removing or reordering a stored decision breaks the chain from there
on; `verify` recomputes it and names the first entry that no longer holds."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.features import plain

# What a decision's hash covers: what was decided, by whom, on what basis, when, who recorded
# it, and its place in the chain. Not the reference (the insert statement draws it from a
# sequence) nor the audience (visibility, shared_with), which decides who reads, not what was
# decided; nor `corrected_by`, which grows when a correction is recorded.
HASHED = (
    "id",
    "activation_id",
    "chain_seq",
    "prev_hash",
    "title",
    "description",
    "decided_at",
    "decided_by_position_id",
    "decided_by_name",
    "basis",
    "discipline",
    "corrects_id",
    "exercise",
    "source",
    "external_id",
    "created_at",
    "created_by",
)


def canonical(values: Mapping[str, Any]) -> bytes:
    """The bytes hashed: the HASHED fields as JSON, keys sorted, no spaces, UTF-8; times in UTC
    ISO 8601 with microseconds as stored, ids as lowercase hyphenated text, absent as null."""
    return orjson.dumps(
        {name: plain(values.get(name)) for name in HASHED}, option=orjson.OPT_SORT_KEYS
    )


def content_hash(values: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(values)).hexdigest()


def _lock_key(activation_id: uuid.UUID) -> int:
    digest = hashlib.sha256(b"decision-chain:" + activation_id.bytes).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def link(session: AsyncSession, values: dict[str, Any]) -> None:
    """Give a new decision its place in its activation's chain and its hash. The lock (one per
    activation, until the transaction ends) makes two decisions recorded at once take 1 then 2,
    the second chained on the first, rather than both taking 1 on the same predecessor."""
    from app.domain.decision import Decision

    activation_id = values["activation_id"]
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(activation_id)}
    )
    last = (
        await session.execute(
            select(Decision.chain_seq, Decision.hash)
            .where(Decision.activation_id == activation_id)
            .order_by(Decision.chain_seq.desc())
            .limit(1)
        )
    ).first()
    values["chain_seq"] = 1 if last is None else last.chain_seq + 1
    values["prev_hash"] = None if last is None else last.hash
    values["hash"] = content_hash(values)


@dataclass(frozen=True)
class Break:
    """The first entry of a chain that no longer holds."""

    id: str
    ref: str
    chain_seq: int
    check: str  # sequence | prev_hash | hash
    detail: str


@dataclass(frozen=True)
class Verdict:
    activation_id: str
    decisions: int
    intact: bool
    head: str | None  # the last decision's hash: what to note down to prove the log later
    broken: Break | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def verify(session: AsyncSession, activation_id: uuid.UUID) -> Verdict:
    """Recompute an activation's chain in order: numbers 1, 2, 3… without gap, each entry's
    `prev_hash` the previous entry's `hash`, each `hash` the hash of the entry's content."""
    from app.domain.decision import Decision

    rows = (
        await session.scalars(
            select(Decision)
            .where(Decision.activation_id == activation_id)
            .order_by(Decision.chain_seq, Decision.id)
        )
    ).all()
    previous: str | None = None
    for expected, row in enumerate(rows, start=1):
        found = _first_failure(row, expected, previous)
        if found is not None:
            check, detail = found
            broken = Break(str(row.id), row.ref, row.chain_seq, check, detail)
            return Verdict(str(activation_id), len(rows), False, None, broken)
        previous = row.hash
    return Verdict(str(activation_id), len(rows), True, previous, None)


def _first_failure(row: Any, expected: int, previous: str | None) -> tuple[str, str] | None:
    if row.chain_seq != expected:
        return (
            "sequence",
            f"{row.ref} is number {row.chain_seq} where number {expected} was due: "
            "a decision was removed or renumbered",
        )
    if row.prev_hash != previous:
        return (
            "prev_hash",
            f"{row.ref} does not follow the decision before it: "
            "that one, or this link, was changed",
        )
    values = {name: getattr(row, name) for name in HASHED}
    if content_hash(values) != row.hash:
        return ("hash", f"{row.ref}'s content no longer matches its hash: it was changed")
    return None


async def activations_with_decisions(session: AsyncSession) -> list[uuid.UUID]:
    from app.domain.decision import Decision

    return list(
        (
            await session.scalars(
                select(Decision.activation_id).distinct().order_by(Decision.activation_id)
            )
        ).all()
    )
