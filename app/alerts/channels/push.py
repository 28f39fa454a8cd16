"""Web Push: an alert to a user's device, even a locked phone (RFC 8030), encrypted for that
device (RFC 8291, `aes128gcm`) and signed with the service's VAPID key (RFC 8292), through
pywebpush (http_ece for the encryption, py_vapid for the signature).

The message says as little as it can: the alert's headline in the device's language, its id
and reference, its severity, and a signed acknowledgement token (app.alerts.channels.tokens);
nothing of the partner's or of any person. The push service answers:

- 201: taken (the device gets it when it is reachable, within the TTL);
- 404/410: the subscription is gone (the user unsubscribed, the browser dropped it): the
  delivery fails for good and the device is removed;
- 429 and 5xx: retried, not before the `Retry-After` the service asked for;
- anything else: a failure, retried like a webhook's.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import aiohttp
import orjson
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from app.alerts.channels.webhook import SendError

# RFC 8030 §5.3: a push service's Urgency. A severe or extreme alert wakes the device.
URGENT_SEVERITIES = frozenset({"Extreme", "Severe"})
# RFC 8291 §4: a push message holds at most 4096 octets; 3993 of plaintext once encrypted with
# one record. The headline is cut, never the token.
MAX_PAYLOAD = 3993
MAX_HEADLINE = 300


class PushError(SendError):
    """The message could not be pushed. `gone`: the subscription no longer exists (404/410)
    and is removed; `final`: no retry can succeed (implied by `gone`); `retry_after`: seconds
    the service asked to wait (429, 503)."""

    def __init__(
        self,
        message: str,
        *,
        gone: bool = False,
        final: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.gone = gone
        self.final = final or gone
        self.retry_after = retry_after


@dataclass(frozen=True)
class VapidKey:
    """The application server's key pair: the private key signs, the public key is given to
    browsers (`applicationServerKey`) and names this server to the push services."""

    signer: Vapid
    public_key: str  # base64url of the uncompressed P-256 point, as PushManager.subscribe takes
    subject: str

    @classmethod
    def load(cls, private_key: str, subject: str) -> VapidKey:
        """From SITCEN_VAPID_PRIVATE_KEY (base64url of the 32-byte key, or PEM/DER); ValueError
        if it is not a P-256 private key."""
        try:
            signer = Vapid.from_string(private_key=private_key.strip())
        except Exception as e:  # py_vapid raises a variety for a malformed key
            raise ValueError(f"SITCEN_VAPID_PRIVATE_KEY is not a P-256 private key: {e}") from e
        point = signer.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return cls(signer, base64.urlsafe_b64encode(point).decode().rstrip("="), subject)


@lru_cache(maxsize=4)
def vapid_key(private_key: str, subject: str) -> VapidKey | None:
    """The key of SITCEN_VAPID_PRIVATE_KEY; None when it is unset (no push channel)."""
    return VapidKey.load(private_key, subject) if private_key.strip() else None


def payload(
    *,
    alert_id: str,
    ref: str,
    headline: str,
    language: str,
    severity: str,
    msg_type: str,
    status: str,
    url: str,
    ack_url: str,
    ack_token: str | None,
) -> bytes:
    """What the service worker reads (frontend/src/sw-push.js). The same bytes on every attempt
    of a delivery; encryption makes each attempt's body differ."""
    body: dict[str, Any] = {
        "type": "alert",
        "alert": alert_id,
        "ref": ref,
        "headline": headline[:MAX_HEADLINE],
        "lang": language,
        "severity": severity,
        "msg_type": msg_type,
        "status": status,
        "url": url,
        "ack": {"url": ack_url, "token": ack_token} if ack_token else None,
    }
    data = orjson.dumps(body)
    if len(data) > MAX_PAYLOAD:  # only a headline of many multi-byte characters gets here
        body["headline"] = headline[:80]
        data = orjson.dumps(body)
    return data


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


async def send(
    http: aiohttp.ClientSession,
    key: VapidKey,
    *,
    endpoint: str,
    p256dh: str,
    auth: str,
    data: bytes,
    ttl: int,
    urgent: bool,
    seconds: float,
    topic: str | None = None,
) -> int:
    """Encrypt and POST one message; the push service's status (201). PushError otherwise."""
    headers: dict[str, str | int | float] = {"Urgency": "high" if urgent else "normal"}
    if topic:
        # RFC 8030 §5.4: a newer message of the same topic replaces one not yet delivered.
        headers["Topic"] = topic
    try:
        response = await webpush_async(
            {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=data.decode(),
            vapid_private_key=key.signer,
            vapid_claims={"sub": key.subject},  # a new dict: pywebpush adds aud and exp to it
            ttl=ttl,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=seconds),
            aiohttp_session=http,
        )
    except WebPushException as e:
        status = e.status_code
        if status in (404, 410):
            raise PushError(f"HTTP {status}: subscription gone", gone=True) from None
        wait = retry_after(e.retry_after, datetime.now(UTC))
        raise PushError(f"HTTP {status}", retry_after=wait) from None
    except (aiohttp.ClientError, OSError) as e:
        raise PushError(f"{type(e).__name__}: {e}"[:500]) from None
    except TimeoutError:
        raise PushError(f"no answer within {seconds:g} s") from None
    return int(getattr(response, "status", 201))
