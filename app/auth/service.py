"""Creating, changing and checking identities: used by the API, the CLI and the demo alike."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import audit
from app.audit import AuditKind
from app.auth import throttle
from app.auth.models import ApiKey, RefreshToken, User
from app.auth.passwords import hash_password, policy_problem, verify_password
from app.auth.roles import Role
from app.auth.tokens import digest, new_api_key, unauthorized
from app.domain import organisations
from app.domain.enums import Entity
from app.errors import already_exists, not_found, validation_problem, weak_password

LANGUAGES = ("fr", "nl", "en")
# A user who never chose a language (NULL) reads the dashboard in French.
DEFAULT_LANGUAGE = "fr"
PRINCIPALS_CHANNEL = "sitcen_principals"


def _check_password(password: str) -> None:
    problem = policy_problem(password)
    if problem:
        raise weak_password(problem)


async def _check_organisation(
    session: AsyncSession, role: Role, organisation: str | None, what: str = "user"
) -> None:
    """A partner principal always acts for one organisation: without one, every path that
    keeps a partner to its own would have nothing to keep it to."""
    if role == Role.partner and not organisation:
        raise validation_problem(
            [
                {
                    "loc": ["body", "organisation"],
                    "msg": f"a partner {what} belongs to an organisation",
                }
            ]
        )
    if organisation is not None:
        await organisations.require_known(session, [organisation], ["body", "organisation"])


async def create_user(
    session: AsyncSession,
    username: str,
    password: str,
    role: Role,
    *,
    actor: str,
    full_name: str | None = None,
    organisation: str | None = None,
    language: str | None = None,
) -> User:
    _check_password(password)
    await _check_organisation(session, role, organisation)
    if await session.scalar(select(User).where(User.username == username)):
        raise already_exists(f"user {username!r} already exists")
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
    await audit.record(
        session,
        AuditKind.user_created,
        subject=username,
        actor=actor,
        detail={"role": role.value, "organisation": organisation},
    )
    return user


async def get_user(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise not_found("user", detail=f"no user {username!r}")
    return user


async def change_user(
    session: AsyncSession,
    username: str,
    *,
    actor: str,
    role: Role | None = None,
    disabled: bool | None = None,
    password: str | None = None,
    full_name: str | None = None,
    organisation: str | None = None,
    language: str | None = None,
) -> User:
    """Change a user; disabling or a new password also revokes their refresh tokens."""
    user = await get_user(session, username)
    changed: dict[str, object] = {}
    if role is not None or organisation is not None:
        new_role = role or Role(user.role)
        new_org = organisation if organisation is not None else user.organisation
        await _check_organisation(session, new_role, new_org)
        user.role, user.organisation = new_role.value, new_org
        changed.update(role=new_role.value, organisation=new_org)
    if password is not None:
        _check_password(password)
        user.password_hash = hash_password(password)
        changed["password"] = "reset"
    if full_name is not None:
        user.full_name = changed["full_name"] = full_name
    if language is not None:
        user.language = changed["language"] = language
    if disabled is not None:
        user.disabled = changed["disabled"] = disabled
    if disabled or password is not None:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    await audit.record(
        session, AuditKind.user_changed, subject=username, actor=actor, detail=changed
    )
    if disabled or "role" in changed:
        await _end_streams(session, "user", username)
    return user


async def _end_streams(session: AsyncSession, kind: str, name: str) -> None:
    """Every instance hears this at commit and closes the principal's open WebSockets."""
    await session.execute(
        text("SELECT pg_notify(:channel, :p)"),
        {"channel": PRINCIPALS_CHANNEL, "p": f"{kind}:{name}"},
    )


async def login(session: AsyncSession, username: str, password: str, ip: str) -> User:
    """Check a password under the throttle. Failures are committed here, so that they count
    even though the caller answers with an error."""
    await throttle.check(session, username, ip)
    user = await session.scalar(select(User).where(User.username == username))
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or user.disabled:
        locked = await throttle.failed(session, username, ip)
        await audit.record(
            session,
            AuditKind.login_failure,
            subject=username,
            ip=ip,
            detail={"reason": "disabled" if ok and user else "credentials"},
        )
        if locked:
            await audit.record(session, AuditKind.lockout, subject=username, ip=ip)
        await session.commit()
        raise unauthorized("wrong username or password, or the account is disabled")
    await throttle.succeeded(session, username)
    await audit.record(session, AuditKind.login_success, subject=username, ip=ip)
    return user


async def create_api_key(
    session: AsyncSession,
    name: str,
    role: Role,
    *,
    actor: str,
    expires_at: datetime | None = None,
    entities: list[str] | None = None,
    source: str | None = None,
    read_only: bool = False,
    organisation: str | None = None,
    key: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; the plain key is returned once and only its hash is stored.

    A partner key belongs to an `organisation` and is scoped exactly as that organisation's
    users (a partner's own system reading its alerts). `key` lets the local demo set a key the
    README can name; everywhere else it is random.
    """
    _check_expiry(expires_at)
    await _check_organisation(session, role, organisation, "key")
    if await session.scalar(select(ApiKey).where(ApiKey.name == name)):
        raise already_exists(f"an API key named {name!r} exists")
    known = {e.value for e in Entity}
    wanted = entities or ["incident"]
    unknown = [e for e in wanted if e not in known]
    if unknown:
        raise validation_problem(
            [{"loc": ["body", "entities"], "msg": f"unknown entity {unknown[0]!r}"}]
        )
    key = key or new_api_key()
    row = ApiKey(
        name=name,
        role=role.value,
        prefix=key[:12],
        key_hash=digest(key),
        entities=wanted,
        source=source or name,
        read_only=read_only,
        organisation=organisation,
        created_at=datetime.now(UTC),
        created_by=actor,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        AuditKind.key_created,
        subject=f"key:{name}",
        actor=actor,
        detail={
            "role": role.value,
            "entities": wanted,
            "source": row.source,
            "read_only": read_only,
            "organisation": organisation,
        },
    )
    return row, key


def _check_expiry(expires_at: datetime | None) -> None:
    """A key that expires before it is made would be refused at its first use: say so now."""
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        msg = "time needs a timezone offset (e.g. 2026-09-26T10:00:00+02:00)"
    elif expires_at <= datetime.now(UTC):
        msg = f"{expires_at.isoformat()} is in the past: a key must expire later than now"
    else:
        return
    raise validation_problem([{"loc": ["body", "expires_at"], "msg": msg}])


async def revoke_api_key(session: AsyncSession, name: str, *, actor: str = "cli") -> ApiKey:
    row = await session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is None:
        raise not_found("API key", detail=f"no API key named {name!r}")
    row.revoked_at = row.revoked_at or datetime.now(UTC)
    await audit.record(session, AuditKind.key_revoked, subject=f"key:{name}", actor=actor)
    await _end_streams(session, "apikey", name)
    return row


async def authenticate(session: AsyncSession, username: str, password: str) -> User:
    """Check a password without the throttle (for internal callers such as the CLI)."""
    user = await session.scalar(select(User).where(User.username == username))
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or user.disabled:
        raise unauthorized("wrong username or password, or the account is disabled")
    return user
