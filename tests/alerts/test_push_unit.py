"""Web Push pieces without a server: Retry-After, the payload's bound, the VAPID key."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from app.alerts.channels import push
from app.localdb import new_vapid_key

NOW = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("Mon, 07 Dec 2026 21:01:30 GMT", 90.0),
        ("Mon, 07 Dec 2026 20:00:00 GMT", 0.0),  # in the past: at once
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(header: str | None, seconds: float | None) -> None:
    assert push.retry_after(header, NOW) == seconds


def test_a_long_headline_keeps_the_payload_within_one_record() -> None:
    data = push.payload(
        alert_id="a",
        ref="ALR-2026-000001",
        headline="é" * 5000,
        language="fr",
        severity="Severe",
        msg_type="Alert",
        status="Actual",
        url="https://x/?alert=a",
        ack_url="https://x/alerts/ack/push",
        ack_token="t" * 200,
    )
    assert len(data) <= push.MAX_PAYLOAD
    assert orjson.loads(data)["ack"]["token"] == "t" * 200


def test_vapid_key() -> None:
    key = push.VapidKey.load(new_vapid_key(), "mailto:watch@sitcen.test")
    assert len(key.public_key) == 87  # 65 bytes, base64url without padding
    assert push.vapid_key("", "mailto:x@y.z") is None
    with pytest.raises(ValueError, match="SITCEN_VAPID_PRIVATE_KEY"):
        push.VapidKey.load("not a key", "mailto:x@y.z")
