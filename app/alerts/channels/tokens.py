"""Signed acknowledgement links: an HMAC token naming the alert, the partner and the SPOC.

The link in an e-mail must work without logging in (a SPOC reads it on a phone at night), so
the token itself is the proof: it is signed with the service's secret key and expires.
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


@dataclass(frozen=True)
class AckClaim:
    alert_id: uuid.UUID
    organisation: str
    contact_id: uuid.UUID | None
    expires: datetime


def _mac(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), _PURPOSE + payload, hashlib.sha256).hexdigest()[:32]


def sign(secret: str, claim: AckClaim) -> str:
    payload = "|".join(
        (
            str(claim.alert_id),
            claim.organisation,
            str(claim.contact_id or ""),
            str(int(claim.expires.timestamp())),
        )
    ).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _mac(secret, payload)


def verify(secret: str, token: str, now: datetime | None = None) -> AckClaim | None:
    """The claim of a valid, unexpired token; None for anything else."""
    try:
        encoded, mac = token.split(".", 1)
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        # Bytes, not str: compare_digest raises TypeError on a non-ASCII str, and a link
        # anyone can edit must never make the service fail.
        if not hmac.compare_digest(mac.encode(), _mac(secret, payload).encode()):
            return None
        alert_id, organisation, contact, expires = payload.decode().split("|")
        claim = AckClaim(
            uuid.UUID(alert_id),
            organisation,
            uuid.UUID(contact) if contact else None,
            datetime.fromtimestamp(int(expires), UTC),
        )
    except (ValueError, UnicodeDecodeError):
        return None
    return claim if claim.expires > (now or datetime.now(UTC)) else None
