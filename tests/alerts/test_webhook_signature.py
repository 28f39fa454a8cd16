"""The webhook signature check partners copy from docs/alerts.md: the service's reference
(`app.alerts.channels.webhook.verify`) and the documented code accept exactly the same headers, and
anything a sender may write is a refusal, never a crash."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from app.alerts.channels import webhook
from app.settings import PROJECT_ROOT

SECRET = "whsec_test"
BODY = b'{"alert":"ALR-2026-000001"}'


def _documented() -> Callable[[str, str, bytes], bool]:
    text = (PROJECT_ROOT / "docs" / "alerts.md").read_text()
    (code,) = [c for c in re.findall(r"```python\n(.*?)```", text, re.S) if "def verify" in c]
    scope: dict[str, object] = {}
    exec(compile(code, "docs/alerts.md", "exec"), scope)
    return scope["verify"]  # type: ignore[return-value]


def _signed(timestamp: int | None = None) -> str:
    return webhook.signature(SECRET, timestamp or int(time.time()), BODY)


def _cases() -> dict[str, tuple[str, bytes, bool]]:
    """Each case's header, made when the test runs: a signature is only good for a few
    minutes, and a long test session may run this file well after collecting it."""
    valid = _signed()
    stamp, mac = valid.split(",v1=")
    flipped = mac[:-1] + ("0" if mac[-1] != "0" else "1")
    return {
        "signed": (valid, BODY, True),
        "one digit changed": (f"{stamp},v1={flipped}", BODY, False),
        "body changed": (valid, BODY + b" ", False),
        "an hour old": (_signed(int(time.time()) - 3600), BODY, False),
        "non-ASCII signature": (f"{stamp},v1={'é' * len(mac)}", BODY, False),
        "no signature": (stamp, BODY, False),
        "no timestamp": (f"v1={mac}", BODY, False),
        "timestamp not a number": (f"t=soon,v1={mac}", BODY, False),
        "empty header": ("", BODY, False),
        "no key=value": ("garbage", BODY, False),
    }


CASES = list(_cases())


@pytest.mark.parametrize("case", CASES)
def test_the_reference_check(case: str) -> None:
    header, body, expected = _cases()[case]
    assert webhook.verify(SECRET, header, body, time.time()) is expected


@pytest.mark.parametrize("case", CASES)
def test_the_documented_check_agrees(case: str) -> None:
    header, body, expected = _cases()[case]
    assert _documented()(SECRET, header, body) is expected
