"""The change feed over HTTP: records after a sequence number, in order (DESIGN §9)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api.deps import Session, parse_list, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.permissions import scope_of
from app.auth.principal import Principal
from app.domain import changes
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
) -> Response:
    entities = parse_list(entity, "entity", {e.value for e in Entity})
    head = await changes.head(session)
    records = await changes.changes_after(session, since, limit, entities)
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
    scope = scope_of(principal)
    visible = []
    for c in records:
        if scope.sees(c.feature["properties"]):
            visible.append(changes.change_message(c))
        elif not scope.everything and c.op != "created":
            before = await changes.previous_feature(session, c)
            if before is not None and scope.sees(before["properties"]):
                visible.append(changes.removed_message(c))
    body = {
        "head": head,
        "oldest": kept.oldest,
        "oldest_at": kept.since.isoformat() if kept.since else None,
        "changes": visible,
        # Where the next call should start, even when every record of this page was filtered out.
        "next_since": records[-1].seq if len(records) == limit else head,
    }
    return json_response(body)
