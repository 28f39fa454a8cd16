"""User administration (admins): list, create, change role, disable, reset a password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field
from sqlalchemy import select
from starlette.responses import Response

from app.api.deps import Session, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth import service
from app.auth.models import User
from app.auth.principal import Principal
from app.auth.roles import Role
from app.domain.schema import Input, OrgCode

router = APIRouter(prefix="/api/users", tags=["users"], route_class=Route)
Admin = Annotated[Principal, Depends(require("users:manage"))]
Username = Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9._\-]*$")]
Language = Annotated[str, Field(pattern="^(fr|nl|en)$")]


class UserCreate(Input):
    username: Username
    password: Annotated[str, Field(max_length=256)]
    role: Role
    full_name: Annotated[str, Field(max_length=200)] | None = None
    organisation: OrgCode | None = None
    # Unset: the user never chose; the dashboard speaks French until they do.
    language: Language | None = None


class UserChange(Input):
    role: Role | None = None
    disabled: bool | None = None
    password: Annotated[str, Field(max_length=256)] | None = None
    full_name: Annotated[str, Field(max_length=200)] | None = None
    organisation: OrgCode | None = None
    language: Language | None = None


def _public(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "organisation": user.organisation,
        "language": user.language,
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat(),
        "created_by": user.created_by,
    }


@router.get("", summary="Users")
async def list_users(session: Session, _: Admin) -> Response:
    users = (await session.scalars(select(User).order_by(User.username))).all()
    return json_response({"users": [_public(u) for u in users]})


@router.post("", status_code=201, summary="Create a user")
async def create_user(session: Session, admin: Admin, body: UserCreate) -> Response:
    user = await service.create_user(
        session,
        body.username,
        body.password,
        body.role,
        actor=admin.actor,
        full_name=body.full_name,
        organisation=body.organisation,
        language=body.language,
    )
    await session.commit()
    return json_response(_public(user), 201)


@router.patch("/{username}", summary="Change role, disable/enable, reset password")
async def change_user(session: Session, admin: Admin, username: str, body: UserChange) -> Response:
    user = await service.change_user(
        session, username, actor=admin.actor, **body.model_dump(exclude_unset=True)
    )
    await session.commit()
    return json_response(_public(user))
