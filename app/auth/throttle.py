"""Login throttling: repeated failures lock a username or an address out for a while (429).

Counters live in the database so that every app instance enforces the same limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, Integer, String, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app import errors
from app.db import Base
from app.errors import ProblemError


class LoginFailures(Base):
    __tablename__ = "login_failures"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)  # "user" or "ip"
    subject: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Policy:
    per_user: int = 5  # an agent mistyping; a guess at a password is slower than this
    per_ip: int = 20  # a shared crisis-room workstation serves several agents
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)


POLICY = Policy()


def locked_out(until: datetime, now: datetime) -> ProblemError:
    seconds = max(1, int((until - now).total_seconds()) + 1)
    return errors.locked_out(seconds)


async def check(session: AsyncSession, username: str, ip: str) -> None:
    """Refuse with 429 before checking the password while the user or address is locked."""
    now = datetime.now(UTC)
    rows = await session.execute(
        text("""SELECT locked_until FROM login_failures
                WHERE ((scope = 'user' AND subject = :u) OR (scope = 'ip' AND subject = :ip))
                  AND locked_until > :now ORDER BY locked_until DESC LIMIT 1"""),
        {"u": username, "ip": ip, "now": now},
    )
    until = rows.scalar()
    if until is not None:
        raise locked_out(until, now)


async def failed(session: AsyncSession, username: str, ip: str, policy: Policy = POLICY) -> bool:
    """Count a failure for the user and the address; True when this failure locks either."""
    now = datetime.now(UTC)
    locked = False
    for scope, subject, limit in (("user", username, policy.per_user), ("ip", ip, policy.per_ip)):
        row = (
            await session.execute(
                text("""
                INSERT INTO login_failures AS f (scope, subject, failures, window_start)
                VALUES (:scope, :subject, 1, :now)
                ON CONFLICT (scope, subject) DO UPDATE SET
                    failures = CASE WHEN f.window_start < :window_start THEN 1
                                    ELSE f.failures + 1 END,
                    window_start = CASE WHEN f.window_start < :window_start THEN :now
                                        ELSE f.window_start END
                RETURNING failures"""),
                {
                    "scope": scope,
                    "subject": subject,
                    "now": now,
                    "window_start": now - policy.window,
                },
            )
        ).scalar_one()
        if row >= limit:
            locked = True
            await session.execute(
                text("""UPDATE login_failures
                        SET locked_until = :until, failures = 0, window_start = :now
                        WHERE scope = :scope AND subject = :subject"""),
                {"until": now + policy.lock, "now": now, "scope": scope, "subject": subject},
            )
    return locked


async def succeeded(session: AsyncSession, username: str) -> None:
    await session.execute(
        text("DELETE FROM login_failures WHERE scope = 'user' AND subject = :u"), {"u": username}
    )
