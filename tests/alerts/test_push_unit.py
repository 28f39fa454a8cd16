"""Web Push pieces without a server: Retry-After, the payload's bound, the VAPID key."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from app.alerts.channels import push
from app.alerts.lifecycle.devices import check_endpoint
from app.alerts.settings import DEFAULT_PUSH_HOSTS
from app.errors import ProblemError
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


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://web.push.apple.com/QG8x",
        "https://wns2-par02p.notify.windows.com/w/?token=abc",
    ],
)
def test_the_browsers_push_services_are_taken(endpoint: str) -> None:
    check_endpoint(endpoint, DEFAULT_PUSH_HOSTS, allow_http_loopback=False)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://intranet.example.org/x",  # any other host: the service would POST there
        "https://evilfcm.googleapis.com.example.org/x",
        "https://xfcm.googleapis.com/x",
        "http://fcm.googleapis.com/fcm/send/abc",  # not https
        "http://127.0.0.1:9000/push",  # loopback only where the setting allows it
    ],
)
def test_other_endpoints_are_refused(endpoint: str) -> None:
    with pytest.raises(ProblemError):
        check_endpoint(endpoint, DEFAULT_PUSH_HOSTS, allow_http_loopback=False)


def test_loopback_when_allowed_and_any_host_with_an_empty_list() -> None:
    check_endpoint("http://127.0.0.1:9000/push", DEFAULT_PUSH_HOSTS, allow_http_loopback=True)
    check_endpoint("https://push.example.org/x", [], allow_http_loopback=False)
