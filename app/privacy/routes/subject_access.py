"""Everything held about a named person, as JSON, for the data protection officer's answer to
a subject-access request (docs/privacy.md). Administrators only; every export is audited.

A POST, not a GET: the name is personal data, and a query string ends in access logs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from app import audit
from app.api.deps import RuntimeDep, Session, client_ip, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.db import transaction
from app.privacy.subject_access import MIN_NAME, export

router = APIRouter(prefix="/api/privacy", tags=["privacy"], route_class=Route)


class SubjectAccessIn(BaseModel):
    name: Annotated[
        str,
        Field(
            min_length=MIN_NAME,
            max_length=200,
            description="The person's name (or phone number, e-mail) as it would be written; "
            "searched case-insensitively in every column of every table",
        ),
    ]


@router.post(
    "/subject-access",
    summary="Everything held about a named person (a subject-access request), audited",
    responses={422: {"description": "No name, or one too short to search for"}},
)
async def subject_access(
    request: Request,
    session: Session,
    runtime: RuntimeDep,
    body: SubjectAccessIn,
    principal: Annotated[Principal, Depends(require("privacy:subject_access"))],
) -> Response:
    name = body.name.strip()
    async with transaction(runtime.sessions) as reading:
        found = await export(reading, name, principal.actor)
    await audit.record(
        session,
        audit.AuditKind.subject_access_export,
        subject=name[:128],
        actor=principal.actor,
        ip=client_ip(request),
        detail={"found": found.counts},
    )
    await session.commit()
    return json_response(
        found.body, headers={"Content-Disposition": 'attachment; filename="subject-access.json"'}
    )
