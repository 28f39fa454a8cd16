"""Access tokens (short-lived JWT), refresh tokens (opaque, rotated) and API keys (hashed)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import audit, errors
from app.auth.keycache import CachedKey, KeyCache
from app.auth.models import RefreshToken, User
from app.auth.principal import Principal
from app.auth.roles import Role
from app.db import driver
from app.errors import ProblemError
from app.settings import Settings

ALGORITHM = "HS256"
API_KEY_PREFIX = "sitcen_"
# Recording each use would turn every read into a write; once a minute is enough to audit.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def unauthorized(detail: str) -> ProblemError:
    return errors.unauthorized(detail)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_access_token(user: User, settings: Settings) -> tuple[str, int]:
    now = datetime.now(UTC)
    ttl = settings.access_token_minutes * 60
    claims = {
        "sub": str(user.id),
        "name": user.username,
        "role": user.role,
        "org": user.organisation,
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
        "typ": "access",
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM), ttl


def decode_access_token(token: str, settings: Settings) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, settings.secret_key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        raise unauthorized("token expired; refresh it or log in again") from None
    except jwt.PyJWTError:
        raise unauthorized("invalid token") from None
    if claims.get("typ") != "access":
        raise unauthorized("not an access token")
    return claims


def _acting_for_one(principal: Principal) -> Principal:
    """A partner acts for one organisation. One without (an API key made before keys had
    organisations) would have nothing to keep it to its own, and read as SITCEN staff."""
    if principal.role == Role.partner and not principal.organisation:
        raise unauthorized(
            f"partner {principal.actor!r} belongs to no organisation; an admin must give it one"
        )
    return principal


def _user_id(claims: dict[str, Any]) -> uuid.UUID:
    """The user a token names. This server only signs user ids, but a token signed with the
    same secret by anything else must not turn into a server error."""
    try:
        return uuid.UUID(claims["sub"])
    except (ValueError, TypeError, AttributeError):
        raise unauthorized("invalid token: it names no user") from None


async def principal_from_token(session: AsyncSession, token: str, settings: Settings) -> Principal:
    user_id = _user_id(decode_access_token(token, settings))
    # Read on every request so that disabling a user takes effect at once; on the driver,
    # as every request pays for it (see app.db.driver).
    user = await (await driver(session)).fetchrow(
        "SELECT id, username, role, organisation FROM users WHERE id = $1 AND NOT disabled",
        user_id,
    )
    if user is None:
        raise unauthorized("user is disabled or no longer exists")
    return _acting_for_one(
        Principal("user", user["id"], user["username"], Role(user["role"]), user["organisation"])
    )


async def issue_refresh_token(
    session: AsyncSession, user: User, settings: Settings, family: uuid.UUID | None = None
) -> str:
    """A refresh token: of a new family at login, of its predecessor's when rotated."""
    token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family or uuid.uuid4(),
            token_hash=digest(token),
            expires_at=datetime.now(UTC) + timedelta(hours=settings.refresh_token_hours),
        )
    )
    return token


async def use_refresh_token(session: AsyncSession, token: str, ip: str) -> tuple[User, uuid.UUID]:
    """Exchange a refresh token once: it is revoked, and the caller issues its successor in the
    same family (returned with the user).

    A token already used is a token two parties hold, the user and a thief, and the server
    cannot tell which one is presenting it: so the whole family is revoked, the successor
    too, and the user logs in again (RFC 9700 §4.14.2). Committed here, as the caller answers
    with an error and its transaction rolls back."""
    now = datetime.now(UTC)
    row = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == digest(token)).with_for_update()
    )
    if row is None:
        raise unauthorized("refresh token is invalid; log in again")
    if row.revoked_at is not None:
        await _revoke_family(session, row, now, ip)
        await session.commit()
        raise unauthorized(
            "this refresh token was already used: for safety every session of this login "
            "has been ended; log in again"
        )
    if row.expires_at <= now:
        raise unauthorized("refresh token expired; log in again")
    row.revoked_at = now
    user = await session.get(User, row.user_id)
    if user is None or user.disabled:
        raise unauthorized("user is disabled or no longer exists")
    return user, row.family_id


async def _revoke_family(
    session: AsyncSession, reused: RefreshToken, now: datetime, ip: str
) -> None:
    revoked = await session.scalars(
        update(RefreshToken)
        .where(RefreshToken.family_id == reused.family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(RefreshToken.id)
    )
    user = await session.get(User, reused.user_id)
    await audit.record(
        session,
        audit.AuditKind.refresh_reuse,
        subject=user.username if user else str(reused.user_id),
        ip=ip,
        detail={"family": str(reused.family_id), "revoked": len(revoked.all())},
    )


async def revoke_refresh_token(session: AsyncSession, token: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == digest(token), RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


async def principal_from_api_key(session: AsyncSession, key: str, cache: KeyCache) -> Principal:
    """The key's principal. When its last-used time is written, `session.info["key_used"]` is
    set so that a read-only request still commits it."""
    if not key.startswith(API_KEY_PREFIX):
        raise unauthorized("invalid API key")
    # The lookup is by a hash of a high-entropy key, so its timing reveals nothing usable.
    key_hash = digest(key)
    entry = cache.get(key_hash)
    if entry is None:
        generation = cache.generation
        # On the driver, as every machine request may pay for it (see app.db.driver).
        row = await (await driver(session)).fetchrow(
            "SELECT id, name, role, organisation, entities, source, read_only, expires_at,"
            " revoked_at, last_used_at"
            " FROM api_keys WHERE key_hash = $1",
            key_hash,
        )
        if row is None or row["revoked_at"] is not None:
            raise unauthorized("invalid or revoked API key")
        principal = _acting_for_one(
            Principal(
                "apikey",
                row["id"],
                row["name"],
                Role(row["role"]),
                row["organisation"],
                entities=frozenset(row["entities"]),
                source=row["source"],
                read_only=row["read_only"],
            )
        )
        entry = CachedKey(principal, row["expires_at"], row["last_used_at"])
        cache.put(key_hash, entry, generation)
    now = datetime.now(UTC)
    if entry.expires_at is not None and entry.expires_at <= now:
        raise unauthorized("API key expired")
    if entry.last_used_at is None or now - entry.last_used_at > LAST_USED_RESOLUTION:
        await (await driver(session)).execute(
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1", entry.principal.id, now
        )
        entry.last_used_at = now
        session.info["key_used"] = True
    return entry.principal


async def authenticate(
    session: AsyncSession,
    settings: Settings,
    key_cache: KeyCache,
    *,
    api_key: str | None = None,
    token: str | None = None,
) -> Principal:
    """Who is calling: the one way REST requests (`X-API-Key`, or `Authorization: Bearer`) and
    WebSocket hellos (told apart by `is_api_key`) prove it, so both treat a key or a token
    alike."""
    if api_key:
        return await principal_from_api_key(session, api_key, key_cache)
    if token:
        return await principal_from_token(session, token, settings)
    raise unauthorized("authentication required: send Authorization: Bearer <token> or X-API-Key")


def is_api_key(secret: str) -> bool:
    """Whether a secret sent without saying what it is (a WebSocket's hello) is an API key (by
    its prefix) rather than an access token."""
    return secret.startswith(API_KEY_PREFIX)
