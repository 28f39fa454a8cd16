"""External feed sources: administrators keep them; SITCEN's staff read their health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.deps import RuntimeDep, Session, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.clock import utcnow
from app.feeds import service
from app.feeds.service import FeedSourceIn, FeedSourcePatch

router = APIRouter(prefix="/api/feeds", tags=["feeds"], route_class=Route)
Reader = Annotated[Principal, Depends(require("feeds:read"))]
Admin = Annotated[Principal, Depends(require("feeds:manage"))]


@router.get("", summary="Feed sources, each with its health")
async def list_sources(session: Session, _: Reader) -> Response:
    rows = await service.sources(session)
    return json_response({"feeds": [service.public(r) for r in rows]})


@router.post("", status_code=201, summary="Add a feed source (audited)")
async def create_source(
    session: Session, runtime: RuntimeDep, admin: Admin, body: FeedSourceIn
) -> Response:
    row = await service.create(session, body, admin.actor, utcnow())
    await session.commit()
    _wake(runtime)  # a new source is due at once
    return json_response(service.public(row), 201, headers={"Location": f"/api/feeds/{row.name}"})


@router.get("/{name}", summary="A feed source and its health")
async def get_source(session: Session, _: Reader, name: str) -> Response:
    return json_response(service.public(await service.get(session, name)))


@router.patch("/{name}", summary="Change a feed source (audited)")
async def change_source(
    session: Session, runtime: RuntimeDep, admin: Admin, name: str, body: FeedSourcePatch
) -> Response:
    row = await service.change(session, name, body, admin.actor, utcnow())
    await session.commit()
    _wake(runtime)
    return json_response(service.public(row))


@router.delete("/{name}", status_code=204, summary="Remove a feed source (audited)")
async def delete_source(session: Session, admin: Admin, name: str) -> Response:
    await service.delete(session, name, admin.actor)
    await session.commit()
    return Response(status_code=204)


@router.post(
    "/{name}/poll", status_code=202, summary="Poll a feed source now, whatever its back-off"
)
async def poll_source(session: Session, runtime: RuntimeDep, _: Admin, name: str) -> Response:
    row = await service.poll_now(session, name)
    await session.commit()
    _wake(runtime)
    return json_response(service.public(row), 202)


def _wake(runtime: RuntimeDep) -> None:
    """This instance's poller looks at once; if another instance holds the poll, it finds the
    source due at its next tick (SITCEN_FEEDS_TICK_SECONDS)."""
    if runtime.feeds is not None:
        runtime.feeds.wake.set()
