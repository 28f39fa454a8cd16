"""The contact directory (`/api/directory`): SITCEN's staff keep every organisation's entries;
a partner's SPOC keeps, reads and confirms its own organisation's, and another's answers as an
unknown one does. The overdue report is SITCEN's. Also the contacts an emergency plan names,
resolved from the directory as they stand (`/api/plans/{id}/contacts`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api.deps import Q_MAX_LENGTH, RuntimeDep, Session, parse_uuid, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.permissions import read_scope
from app.auth.principal import Principal
from app.clock import utcnow
from app.domain import objects
from app.domain.plan import SPEC as PLAN
from app.domain.plan import Plan
from app.partners import directory
from app.partners.access import acting_for, is_partner, within
from app.partners.directory import Policy
from app.partners.schemas import DirectoryEntryIn, DirectoryEntryPatch, ScheduleIn

router = APIRouter(prefix="/api/directory", tags=["directory"], route_class=Route)
plans_router = APIRouter(prefix="/api/plans", tags=["plans"], route_class=Route)
Reader = Annotated[Principal, Depends(require("directory:read"))]
Manager = Annotated[Principal, Depends(require("directory:manage"))]


def _own(principal: Principal) -> str | None:
    """The organisation a partner is kept to; None for SITCEN staff (every organisation)."""
    return principal.organisation if is_partner(principal) else None


@router.get("", summary="Directory entries (a partner sees its own organisation's)")
async def list_entries(
    session: Session,
    principal: Reader,
    organisation: str | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=Q_MAX_LENGTH)] = None,
) -> Response:
    if organisation is not None:
        within(principal, organisation)
    org = _own(principal) or organisation
    rows = await directory.entries(session, org, active=active, q=q)
    return json_response({"entries": [directory.entry_json(e) for e in rows]})


@router.post("", status_code=201, summary="Add an entry to the directory")
async def add_entry(session: Session, body: DirectoryEntryIn, principal: Manager) -> Response:
    org = acting_for(principal, body.organisation)
    entry = await directory.add_entry(session, org, body, principal.actor, utcnow())
    await session.commit()
    return json_response(
        directory.entry_json(entry), 201, {"Location": f"/api/directory/{entry.id}"}
    )


# Two segments: a one-segment literal beside /{entry_id} would take that route's other
# methods (PATCH /api/directory/overdue would answer 404 about an entry, not 405).
@router.get(
    "/reports/overdue",
    summary="SITCEN's report: organisations whose confirmation is overdue or never made",
)
async def overdue_report(
    session: Session,
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(require("directory:report"))],
) -> Response:
    now = utcnow()
    late = await directory.overdue(session, Policy.of(runtime.settings), now)
    return json_response({"at": now.isoformat(), "organisations": [s.as_dict() for s in late]})


@router.get("/{entry_id}", summary="A directory entry")
async def read_entry(session: Session, entry_id: str, principal: Reader) -> Response:
    entry = await directory.get_entry(session, parse_uuid(entry_id), _own(principal))
    return json_response(directory.entry_json(entry))


@router.patch("/{entry_id}", summary="Change a directory entry (plans show the change at once)")
async def change_entry(
    session: Session, entry_id: str, body: DirectoryEntryPatch, principal: Manager
) -> Response:
    entry = await directory.get_entry(
        session, parse_uuid(entry_id), _own(principal), for_update=True
    )
    directory.change_entry(entry, body, principal.actor, utcnow())
    await session.commit()
    return json_response(directory.entry_json(entry))


@router.delete("/{entry_id}", status_code=204, summary="Remove a directory entry")
async def remove_entry(session: Session, entry_id: str, principal: Manager) -> Response:
    entry = await directory.get_entry(
        session, parse_uuid(entry_id), _own(principal), for_update=True
    )
    await session.delete(entry)
    await session.commit()
    return Response(status_code=204)


@router.get(
    "/{organisation}/schedule",
    summary="An organisation's confirmation schedule: last confirmed, by whom, next due",
)
async def read_schedule(
    session: Session, organisation: str, runtime: RuntimeDep, principal: Reader
) -> Response:
    within(principal, organisation)
    schedule = await directory.schedule_of(
        session, organisation, Policy.of(runtime.settings), utcnow()
    )
    return json_response(schedule.as_dict())


@router.patch(
    "/{organisation}/schedule",
    summary="Set an organisation's own period between confirmations (null: the service's)",
)
async def set_schedule(
    session: Session,
    organisation: str,
    body: ScheduleIn,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require("directory:schedule"))],
) -> Response:
    now = utcnow()
    await directory.set_confirm_days(session, organisation, body.confirm_days, principal.actor, now)
    await session.commit()
    schedule = await directory.schedule_of(session, organisation, Policy.of(runtime.settings), now)
    return json_response(schedule.as_dict())


@router.post(
    "/{organisation}/confirm",
    summary="Confirm an organisation's entries as they stand (who and when are recorded)",
)
async def confirm(
    session: Session, organisation: str, runtime: RuntimeDep, principal: Manager
) -> Response:
    within(principal, organisation)
    now = utcnow()
    await directory.confirm(session, organisation, principal.actor, now)
    await session.commit()
    schedule = await directory.schedule_of(session, organisation, Policy.of(runtime.settings), now)
    return json_response(schedule.as_dict())


@plans_router.get(
    "/{object_id}/contacts",
    summary="The contacts a plan names, from the directory as it stands now",
)
async def plan_contacts(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("plan:read"))],
) -> Response:
    plan = await objects.get(session, PLAN, parse_uuid(object_id), read_scope(principal, Plan))
    assert isinstance(plan, Plan)
    contacts = await directory.resolved(session, list(plan.contact_ids), _own(principal))
    return json_response({"plan": str(plan.id), "ref": plan.ref, "contacts": contacts})
