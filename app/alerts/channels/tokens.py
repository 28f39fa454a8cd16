"""Signed acknowledgement links: an HMAC token naming the alert, the partner and the SPOC.

The link in an e-mail must work without logging in (a SPOC reads it on a phone at night), so
the token itself is the proof: it is signed with the service's secret key and expires.

A Web Push notification carries a token of its own kind (`sign_push`): it names the user whose
device it went to instead of a SPOC, and is signed for another purpose, so that neither kind
passes for the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

# Domain separation: a token signed for acks can never pass for anything else signed with the key.
_PURPOSE = b"sitcen-alert-ack\x00"
_PUSH_PURPOSE = b"sitcen-alert-push-ack\x00"


@dataclass(frozen=True)
class AckClaim:
    alert_id: uuid.UUID
    organisation: str
    contact_id: uuid.UUID | None
    expires: datetime


def _mac(secret: str, payload: bytes, purpose: bytes = _PURPOSE) -> str:
    return hmac.new(secret.encode(), purpose + payload, hashlib.sha256).hexdigest()[:32]


def _sign(secret: str, fields: tuple[str, ...], purpose: bytes) -> str:
    payload = "|".join(fields).encode()
    return (
        base64.urlsafe_b64encode(payload).decode().rstrip("=")
        + "."
        + _mac(secret, payload, purpose)
    )


def _fields(secret: str, token: str, purpose: bytes) -> list[str] | None:
    """The signed fields of a token of this purpose; None if it is not one."""
    try:
        encoded, mac = token.split(".", 1)
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        # Bytes, not str: compare_digest raises TypeError on a non-ASCII str, and a link
        # anyone can edit must never make the service fail.
        if not hmac.compare_digest(mac.encode(), _mac(secret, payload, purpose).encode()):
            return None
        return payload.decode().split("|")
    except (ValueError, UnicodeDecodeError):
        return None


def sign(secret: str, claim: AckClaim) -> str:
    return _sign(
        secret,
        (
            str(claim.alert_id),
            claim.organisation,
            str(claim.contact_id or ""),
            str(int(claim.expires.timestamp())),
        ),
        _PURPOSE,
    )


def verify(secret: str, token: str, now: datetime | None = None) -> AckClaim | None:
    """The claim of a valid, unexpired token; None for anything else."""
    fields = _fields(secret, token, _PURPOSE) or []
    try:
        alert_id, organisation, contact, expires = fields
        claim = AckClaim(
            uuid.UUID(alert_id),
            organisation,
            uuid.UUID(contact) if contact else None,
            datetime.fromtimestamp(int(expires), UTC),
        )
    except ValueError:
        return None
    return claim if claim.expires > (now or datetime.now(UTC)) else None


@dataclass(frozen=True)
class PushAckClaim:
    """A Web Push notification's acknowledgement: the alert, the partner it was addressed to
    and the user whose device received it."""

    alert_id: uuid.UUID
    organisation: str
    user_id: uuid.UUID
    expires: datetime


def sign_push(secret: str, claim: PushAckClaim) -> str:
    return _sign(
        secret,
        (
            str(claim.alert_id),
            claim.organisation,
            str(claim.user_id),
            str(int(claim.expires.timestamp())),
        ),
        _PUSH_PURPOSE,
    )


def verify_push(secret: str, token: str, now: datetime | None = None) -> PushAckClaim | None:
    fields = _fields(secret, token, _PUSH_PURPOSE) or []
    try:
        alert_id, organisation, user, expires = fields
        claim = PushAckClaim(
            uuid.UUID(alert_id),
            organisation,
            uuid.UUID(user),
            datetime.fromtimestamp(int(expires), UTC),
        )
    except ValueError:
        return None
    return claim if claim.expires > (now or datetime.now(UTC)) else None


# A crisis cell's page pushed to a SITCEN user's device (app.cell.paging.push_pages): signed
# for a purpose of its own, so that it never passes for an alert's acknowledgement, nor one
# of those for it.
_PAGE_PUSH_PURPOSE = b"sitcen-page-push-ack\x00"


@dataclass(frozen=True)
class PageAckClaim:
    """A page's push notification: the seat paged and the user whose device received it."""

    position_id: uuid.UUID
    user_id: uuid.UUID
    expires: datetime


def sign_page(secret: str, claim: PageAckClaim) -> str:
    return _sign(
        secret,
        (str(claim.position_id), str(claim.user_id), str(int(claim.expires.timestamp()))),
        _PAGE_PUSH_PURPOSE,
    )


def verify_page(secret: str, token: str, now: datetime | None = None) -> PageAckClaim | None:
    """The claim of a valid, unexpired page token; None for anything else."""
    fields = _fields(secret, token, _PAGE_PUSH_PURPOSE) or []
    try:
        position, user, expires = fields
        claim = PageAckClaim(
            uuid.UUID(position), uuid.UUID(user), datetime.fromtimestamp(int(expires), UTC)
        )
    except ValueError:
        return None
    return claim if claim.expires > (now or datetime.now(UTC)) else None
