"""Login (OAuth2 password form), token refresh, logout, who-am-I (and one's own profile: the
language) and the permission table."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import Field
from starlette.responses import Response

from app import audit
from app.api.deps import Session, client_ip, current_principal, runtime_of
from app.api.responses import json_response
from app.api.routing import Route
from app.audit import AuditKind
from app.auth import service, tokens
from app.auth.models import User
from app.auth.permissions import PERMISSIONS, as_table
from app.auth.principal import Principal
from app.domain.schema import Input
from app.errors import forbidden, validation_problem
from app.text import describe, first_bad_character

router = APIRouter(prefix="/api/auth", tags=["auth"], route_class=Route)


async def _token_answer(
    session: Session, user: User, request: Request, family: uuid.UUID | None = None
) -> Response:
    settings = runtime_of(request).settings
    access, ttl = tokens.issue_access_token(user, settings)
    refresh = await tokens.issue_refresh_token(session, user, settings, family)
    await session.commit()
    return json_response(
        {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ttl,
            "refresh_token": refresh,
            "user": {
                "username": user.username,
                "role": user.role,
                "organisation": user.organisation,
                "language": user.language,
                "full_name": user.full_name,
            },
        },
        headers={"Cache-Control": "no-store"},
    )


def _required(*names: str) -> dict[str, object]:
    return {"required": list(names), "properties": {n: {"minLength": 1} for n in names}}


# What each grant needs, which the form's fields, each optional, do not say.
GRANTS = {
    "if": {"required": ["grant_type"], "properties": {"grant_type": {"const": "refresh_token"}}},
    "then": _required("refresh_token"),
    "else": _required("username", "password"),
}


@router.post(
    "/token",
    summary="Get an access token (OAuth2 password or refresh_token grant)",
    openapi_extra={
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": GRANTS}}}
    },
)
async def token(
    request: Request,
    session: Session,
    grant_type: Annotated[str, Form(pattern="^(password|refresh_token)$")] = "password",
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    refresh_token: Annotated[str | None, Form(max_length=256)] = None,
) -> Response:
    if grant_type == "refresh_token":
        if not refresh_token:
            raise validation_problem(
                [{"loc": ["body", "refresh_token"], "msg": "required"}],
                "refresh_token is required",
            )
        user, family = await tokens.use_refresh_token(session, refresh_token, client_ip(request))
        await audit.record(
            session, AuditKind.token_refresh, subject=user.username, ip=client_ip(request)
        )
        return await _token_answer(session, user, request, family)
    if not username or not password:
        raise validation_problem(
            [
                {"loc": ["body", "username"], "msg": "required"},
                {"loc": ["body", "password"], "msg": "required"},
            ],
            "username and password are required",
        )
    char = first_bad_character(username)
    if char is not None:  # no username holds one, and PostgreSQL could not compare it
        raise validation_problem([{"loc": ["body", "username"], "msg": describe(char)}])
    user = await service.login(session, username, password, client_ip(request))
    return await _token_answer(session, user, request)


@router.post("/logout", status_code=204, summary="Revoke a refresh token")
async def logout(
    session: Session,
    principal: Annotated[Principal, Depends(current_principal)],
    refresh_token: Annotated[str, Form(max_length=256)],
) -> Response:
    await tokens.revoke_refresh_token(session, refresh_token)
    await audit.record(session, AuditKind.logout, subject=principal.actor)
    await session.commit()
    return Response(status_code=204)


Me = Annotated[Principal, Depends(current_principal)]


class ProfileChange(Input):
    """What a user may change about themselves."""

    language: Annotated[str, Field(pattern="^(fr|nl|en)$")]


async def _me(session: Session, principal: Principal) -> Response:
    user = await service.get_user(session, principal.name) if principal.kind == "user" else None
    return json_response(
        {
            "name": principal.name,
            "actor": principal.actor,
            "kind": principal.kind,
            "role": principal.role.value,
            "organisation": principal.organisation,
            "full_name": user.full_name if user else None,
            # null: never chosen (the dashboard speaks French); API keys have none.
            "language": user.language if user else None,
            "permissions": sorted(PERMISSIONS.get(principal.role, frozenset())),
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/me", summary="Who is calling, what they may do, and their language")
async def me(session: Session, principal: Me) -> Response:
    return await _me(session, principal)


@router.patch("/me", summary="Change one's own profile (the language), audited")
async def change_me(session: Session, principal: Me, body: ProfileChange) -> Response:
    if principal.kind != "user":
        raise forbidden("only a signed-in user has a profile")
    await service.change_user(
        session, principal.name, actor=principal.actor, **body.model_dump(exclude_unset=True)
    )
    await session.commit()
    return await _me(session, principal)


@router.get("/permissions", summary="The role × action table (read-only)")
async def permissions(principal: Annotated[Principal, Depends(current_principal)]) -> Response:
    return json_response(as_table())
