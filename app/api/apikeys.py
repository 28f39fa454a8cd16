"""API keys of machine clients (admins): list, create (shown once), revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy import select
from starlette.responses import Response

from app.api.deps import Session, require, runtime_of
from app.api.responses import json_response
from app.api.routing import Route
from app.auth import service
from app.auth.models import ApiKey
from app.auth.principal import Principal
from app.auth.roles import Role
from app.domain.enums import Entity
from app.domain.schema import Input, OrgCode, Time

router = APIRouter(prefix="/api/apikeys", tags=["apikeys"], route_class=Route)
Admin = Annotated[Principal, Depends(require("apikeys:manage"))]


class ApiKeyCreate(Input):
    name: Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9._\-]*$")]
    role: Role = Role.dispatch
    entities: Annotated[list[Entity], Field(min_length=1, max_length=6)] = [Entity.incident]
    source: (
        Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")] | None
    ) = None
    expires_at: Time | None = None
    # For a GIS workstation or a metrics scraper: reads whatever the role reads, writes nothing.
    read_only: bool = False
    organisation: OrgCode | None = Field(
        default=None,
        description="The partner organisation a partner key acts for (required for a partner "
        "key); it is scoped exactly as that organisation's users.",
    )


def _public(row: ApiKey) -> dict[str, object]:
    def iso(value: object) -> object:
        return value.isoformat() if hasattr(value, "isoformat") else value

    return {
        "name": row.name,
        "role": row.role,
        "prefix": row.prefix,
        "entities": row.entities,
        "source": row.source,
        "read_only": row.read_only,
        "organisation": row.organisation,
        "created_at": iso(row.created_at),
        "created_by": row.created_by,
        "expires_at": iso(row.expires_at),
        "revoked_at": iso(row.revoked_at),
        "last_used_at": iso(row.last_used_at),
    }


@router.get("", summary="API keys (never the keys themselves)")
async def list_keys(session: Session, _: Admin) -> Response:
    rows = (await session.scalars(select(ApiKey).order_by(ApiKey.name))).all()
    return json_response({"apikeys": [_public(r) for r in rows]})


@router.post("", status_code=201, summary="Create a key; the answer holds it once")
async def create_key(session: Session, admin: Admin, body: ApiKeyCreate) -> Response:
    row, key = await service.create_api_key(
        session,
        body.name,
        body.role,
        actor=admin.actor,
        expires_at=body.expires_at,
        entities=[e.value for e in body.entities],
        source=body.source,
        read_only=body.read_only,
        organisation=body.organisation,
    )
    await session.commit()
    return json_response({**_public(row), "key": key}, 201, headers={"Cache-Control": "no-store"})


@router.post("/{name}/revoke", summary="Revoke a key")
async def revoke_key(request: Request, session: Session, admin: Admin, name: str) -> Response:
    row = await service.revoke_api_key(session, name, actor=admin.actor)
    await session.commit()
    # At once here; the other instances hear it through NOTIFY sitcen_principals.
    runtime_of(request).key_cache.forget(name)
    return json_response(_public(row))
