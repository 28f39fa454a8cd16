"""The change feed over HTTP: records after a sequence number, in order (DESIGN §9)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api.deps import Session, parse_list, parse_time, require, time_query
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.permissions import scope_of
from app.auth.principal import Principal
from app.domain import changes, timetravel
from app.domain.enums import Entity
from app.domain.schema import BIGINT_MAX

router = APIRouter(prefix="/api/changes", tags=["changes"], route_class=Route)


@router.get("", summary="Changes after `since`, oldest first")
async def list_changes(
    session: Session,
    principal: Annotated[Principal, Depends(require("changes:read"))],
    since: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    entity: str | None = None,
    until: Annotated[
        str | None, time_query("only the records committed at or before this time (a replay)")
    ] = None,
) -> Response:
    entities = parse_list(entity, "entity", {e.value for e in Entity})
    up_to = parse_time(until, "until")
    head = await changes.head(session)
    records = await changes.changes_after(session, since, limit, entities, up_to)
    # Read after the records: pruning moves the horizon before it deletes anything, so a
    # horizon that still covers `since` now means nothing after it was missing from the read.
    kept = await changes.kept(session)
    if changes.no_longer_kept(since, head, kept.oldest):
        return json_response(
            {
                "head": head,
                "oldest": kept.oldest,
                "oldest_at": kept.since.isoformat() if kept.since else None,
                "reset": True,
                "reason": f"changes after {since} are no longer kept (oldest kept: "
                f"{kept.oldest}): reload a snapshot, then continue from next_since",
                "changes": [],
                "next_since": head,
            }
        )
    visible = await changes.visible_messages(session, records, scope_of(principal))
    # With `until`, the read ends at the picture then, not at the head.
    end = head if up_to is None else min(head, await changes.seq_at(session, up_to))
    body = {
        "head": head,
        "oldest": kept.oldest,
        "oldest_at": kept.since.isoformat() if kept.since else None,
        "changes": visible,
        # Where the next call should start, even when every record of this page was filtered out.
        "next_since": records[-1].seq if len(records) == limit else max(end, since),
    }
    return json_response(body)


@router.get("/position", summary="The feed position of the picture at a time")
async def position(
    session: Session,
    _: Annotated[Principal, Depends(require("changes:read"))],
    at: Annotated[str, time_query("the time whose picture is wanted")],
) -> Response:
    """The last record committed at or before `at`: the picture `?at=` reads then is the feed up
    to it, and a replay from there applies the records after it (`GET /api/changes?since=`)."""
    when = parse_time(at, "at")
    assert when is not None
    await timetravel.require_kept(session, when)
    return json_response({"at": when.isoformat(), "seq": await changes.seq_at(session, when)})
