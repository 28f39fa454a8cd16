"""The replay's reads beyond the feed itself: the timeline's bookmarks of a window and the
window's report for an after-action review (HTML with a print stylesheet, or PDF)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from starlette.responses import HTMLResponse, Response

from app.api.deps import ReaderLanguage, Session, parse_time, require, time_query
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.permissions import scope_of
from app.auth.principal import Principal
from app.domain import timeline
from app.errors import payload_too_large, validation_problem
from app.reports import replay

timeline_router = APIRouter(prefix="/api/timeline", tags=["replay"], route_class=Route)
router = APIRouter(prefix="/api/replay", tags=["replay"], route_class=Route)


def _window(start: str, end: str) -> tuple[datetime, datetime]:
    since, until = parse_time(start, "start"), parse_time(end, "end")
    assert since is not None and until is not None  # both are required parameters
    if until <= since:
        raise validation_problem([{"loc": ["query", "end"], "msg": "must be after start"}])
    return since, until


@timeline_router.get("/bookmarks", summary="The timeline's bookmarks in a window, oldest first")
async def bookmarks(
    session: Session,
    principal: Annotated[Principal, Depends(require("changes:read"))],
    start: Annotated[str, time_query("after this time")],
    end: Annotated[str, time_query("up to this time")],
) -> Response:
    """Decisions, activation phase changes, SITREPs and threat level changes committed in the
    window, as this caller saw them then (docs/replay-and-exercises.md)."""
    since, until = _window(start, end)
    marks = await timeline.bookmarks(session, since, until, scope_of(principal))
    if marks is None:
        raise payload_too_large(
            f"the window holds more than {timeline.MAX_BOOKMARKS} bookmarks: ask for a shorter "
            "window",
            max_rows=timeline.MAX_BOOKMARKS,
        )
    return json_response(
        {
            "start": since.isoformat(),
            "end": until.isoformat(),
            "kinds": [k.name for k in timeline.BOOKMARK_KINDS],
            "bookmarks": [m.as_json() for m in marks],
        }
    )


@router.get(
    "/report",
    summary="A replay window as an after-action review report (HTML or PDF)",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
async def report(
    session: Session,
    principal: Annotated[Principal, Depends(require("changes:read"))],
    language: ReaderLanguage,
    start: Annotated[str, time_query("the window's start: its picture, then what follows")],
    end: Annotated[str, time_query("the window's end")],
    format: Annotated[Literal["html", "pdf"], Query(description="html (default) or pdf")] = "html",
) -> Response:
    since, until = _window(start, end)
    built = await replay.build(session, scope_of(principal), since, until, principal.actor)
    if format == "pdf":
        name = f"sitcen-replay-{since:%Y%m%dT%H%M}-{language.value}.pdf"
        return Response(
            await replay.render_pdf(built, language),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )
    return HTMLResponse(await replay.render_html(built, language))
