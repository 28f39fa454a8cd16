"""Signed webhooks: HMAC-SHA256 over `timestamp + "." + body` with the partner's secret.

Header: `Sitcen-Signature: t=<unix seconds>,v1=<hex>`. The delivery id travels as
`Idempotency-Key`: a receiver that has seen it already answers 2xx and does nothing, which
makes a resend after a crash harmless. docs/alerts.md shows how to verify.
"""

from __future__ import annotations

import hashlib
import hmac

from app.alerts.channels.http import HttpError, WebhookClient

SIGNATURE_HEADER = "Sitcen-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# A receiver should refuse signatures older than this, so a captured request cannot be replayed.
TOLERANCE_SECONDS = 300


class SendError(Exception):
    """The receiver did not take the message; the text is shown as the channel's last error."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float) -> bool:
    """The receiver's check (reference implementation, as in docs/alerts.md)."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    # Bytes: compare_digest raises TypeError on a str that is not ASCII, and the header is the
    # sender's to write.
    return hmac.compare_digest(expected.encode(), parts.get("v1", "").encode())


async def post(
    client: WebhookClient,
    url: str,
    secret: str,
    body: bytes,
    delivery_id: str,
    now: float,
) -> None:
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, int(now), body),
        IDEMPOTENCY_HEADER: delivery_id,
        "User-Agent": "sitcen-alerts/1",
    }
    try:
        status = await client.post(url, headers, body)
    except HttpError as e:
        raise SendError(str(e)[:500]) from None
    if not 200 <= status < 300:
        # The status only, not the body: the error is shown to the partner, and a URL pointed
        # at an internal service must not become a way to read its answers.
        raise SendError(f"HTTP {status}")
