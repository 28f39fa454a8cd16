"""Password hashing (argon2id) and policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("sitcen-timing-equaliser")

MIN_LENGTH = 12
COMMON = frozenset(
    {
        "password1234",
        "123456789012",
        "qwertyuiopas",
        "azertyuiopqs",
        "bruxelles2024",
        "brussel12345",
        "welcome12345",
        "passwordpassword",
        "administrator",
        "changemechangeme",
    }
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    try:
        return _hasher.verify(hashed or _DUMMY_HASH, password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


def policy_problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"password must be at least {MIN_LENGTH} characters"
    if password.lower() in COMMON:
        return "password is too common"
    return None
