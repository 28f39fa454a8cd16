"""Creating and checking identities: used by the API, the CLI and the demo alike."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ApiKey, User
from app.auth.passwords import hash_password, policy_problem, verify_password
from app.auth.tokens import digest, new_api_key, unauthorized
from app.domain.enums import Role
from app.errors import ProblemError


async def create_user(
    session: AsyncSession,
    username: str,
    password: str,
    role: Role,
    *,
    actor: str,
    full_name: str | None = None,
    organisation: str | None = None,
    language: str = "fr",
) -> User:
    problem = policy_problem(password)
    if problem:
        raise ProblemError(422, "Weak password", problem, type_="password-policy")
    if await session.scalar(select(User).where(User.username == username)):
        raise ProblemError(
            409, "User exists", f"user {username!r} already exists", type_="conflict"
        )
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        full_name=full_name,
        organisation=organisation,
        language=language,
        created_at=datetime.now(UTC),
        created_by=actor,
    )
    session.add(user)
    await session.flush()
    return user


async def authenticate(session: AsyncSession, username: str, password: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or user.disabled:
        raise unauthorized("wrong username or password, or the account is disabled")
    return user


async def create_api_key(
    session: AsyncSession,
    name: str,
    role: Role,
    *,
    actor: str,
    expires_at: datetime | None = None,
    key: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; the plain key is returned once and only its hash is stored.

    `key` lets the local demo set a key the README can name; everywhere else it is random.
    """
    if await session.scalar(select(ApiKey).where(ApiKey.name == name)):
        raise ProblemError(
            409, "API key exists", f"an API key named {name!r} exists", type_="conflict"
        )
    key = key or new_api_key()
    row = ApiKey(
        name=name,
        role=role.value,
        prefix=key[:12],
        key_hash=digest(key),
        created_at=datetime.now(UTC),
        created_by=actor,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row, key


async def revoke_api_key(session: AsyncSession, name: str) -> ApiKey:
    row = await session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is None:
        raise ProblemError(404, "Not found", f"no API key named {name!r}", type_="not-found")
    row.revoked_at = row.revoked_at or datetime.now(UTC)
    return row
