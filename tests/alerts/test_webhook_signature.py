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


VALID = _signed()
_, MAC = VALID.split(",v1=")
STAMP = VALID.split(",")[0]
FLIPPED = MAC[:-1] + ("0" if MAC[-1] != "0" else "1")

CASES = [
    pytest.param(VALID, BODY, True, id="signed"),
    pytest.param(f"{STAMP},v1={FLIPPED}", BODY, False, id="one digit changed"),
    pytest.param(VALID, BODY + b" ", False, id="body changed"),
    pytest.param(_signed(int(time.time()) - 3600), BODY, False, id="an hour old"),
    pytest.param(f"{STAMP},v1={'é' * len(MAC)}", BODY, False, id="non-ASCII signature"),
    pytest.param(STAMP, BODY, False, id="no signature"),
    pytest.param(f"v1={MAC}", BODY, False, id="no timestamp"),
    pytest.param(f"t=soon,v1={MAC}", BODY, False, id="timestamp not a number"),
    pytest.param("", BODY, False, id="empty header"),
    pytest.param("garbage", BODY, False, id="no key=value"),
]


@pytest.mark.parametrize(("header", "body", "expected"), CASES)
def test_the_reference_check(header: str, body: bytes, expected: bool) -> None:
    assert webhook.verify(SECRET, header, body, time.time()) is expected


@pytest.mark.parametrize(("header", "body", "expected"), CASES)
def test_the_documented_check_agrees(header: str, body: bytes, expected: bool) -> None:
    assert _documented()(SECRET, header, body) is expected
