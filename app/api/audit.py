"""The security audit trail over HTTP (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app import audit
from app.api.deps import Session, parse_list, parse_time, require, time_query, values_query
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.domain.schema import BIGINT_MAX

router = APIRouter(prefix="/api/audit", tags=["audit"], route_class=Route)


@router.get("", summary="Authentication events and permission refusals, newest first")
async def list_events(
    session: Session,
    _: Annotated[Principal, Depends(require("audit:read"))],
    kind: Annotated[str | None, values_query("kinds", [k.value for k in audit.AuditKind])] = None,
    subject: Annotated[str | None, Query(max_length=128)] = None,
    since: Annotated[str | None, time_query("from this time")] = None,
    until: Annotated[str | None, time_query("up to this time")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[
        int | None, Query(ge=1, le=BIGINT_MAX, description="id cursor: events older than it")
    ] = None,
) -> Response:
    rows = await audit.events(
        session,
        kind=parse_list(kind, "kind", {k.value for k in audit.AuditKind}),
        subject=subject,
        since=parse_time(since, "since"),
        until=parse_time(until, "until"),
        limit=limit,
        before_id=before,
    )
    return json_response(
        {
            "events": [
                {
                    "id": r.id,
                    "at": r.at.isoformat(),
                    "kind": r.kind,
                    "subject": r.subject,
                    "actor": r.actor,
                    "ip": r.ip,
                    "detail": r.detail,
                }
                for r in rows
            ],
            "next_before": rows[-1].id if len(rows) == limit else None,
        }
    )
