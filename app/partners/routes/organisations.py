"""Partner organisations: read by the picture's users, managed by admins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field
from sqlalchemy import select
from starlette.responses import Response

from app.api.deps import Session, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.domain.schema import Input, OrgCode
from app.errors import already_exists
from app.partners.models import Organisation, OrganisationKind

router = APIRouter(prefix="/api/organisations", tags=["organisations"], route_class=Route)


class OrganisationCreate(Input):
    code: OrgCode
    name_fr: Annotated[str, Field(min_length=1, max_length=200)]
    name_nl: Annotated[str, Field(min_length=1, max_length=200)]
    kind: OrganisationKind


def _public(o: Organisation) -> dict[str, str]:
    return {"code": o.code, "name_fr": o.name_fr, "name_nl": o.name_nl, "kind": o.kind}


@router.get("", summary="Partner organisations")
async def list_organisations(
    session: Session, _: Annotated[Principal, Depends(require("organisations:read"))]
) -> Response:
    rows = (await session.scalars(select(Organisation).order_by(Organisation.code))).all()
    return json_response({"organisations": [_public(o) for o in rows]})


@router.post("", status_code=201, summary="Add a partner organisation")
async def create_organisation(
    session: Session,
    admin: Annotated[Principal, Depends(require("organisations:manage"))],
    body: OrganisationCreate,
) -> Response:
    if await session.get(Organisation, body.code):
        raise already_exists(f"organisation {body.code!r} exists")
    org = Organisation(**body.model_dump(), created_at=datetime.now(UTC), created_by=admin.actor)
    session.add(org)
    await session.commit()
    return json_response(_public(org), 201)
