"""Acknowledgement tokens: only the service's own, unexpired, unaltered signature passes."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.alerts.channels import tokens

SECRET = "test-secret"
NOW = datetime(2026, 9, 27, 10, 0, tzinfo=UTC)
CLAIM = tokens.AckClaim(uuid.uuid4(), "stib-mivb", uuid.uuid4(), NOW + timedelta(hours=1))


def _flip(text: str, at: int) -> str:
    """The text with one character changed to another of the same alphabet."""
    swapped = "b" if text[at] == "a" else "a"
    return text[:at] + swapped + text[at + 1 :]


def test_a_signed_claim_verifies_to_itself() -> None:
    assert tokens.verify(SECRET, tokens.sign(SECRET, CLAIM), NOW) == CLAIM


def test_a_claim_without_contact_verifies() -> None:
    claim = tokens.AckClaim(uuid.uuid4(), "police-5339", None, NOW + timedelta(hours=1))
    assert tokens.verify(SECRET, tokens.sign(SECRET, claim), NOW) == claim


GOOD = tokens.sign(SECRET, CLAIM)
PAYLOAD, MAC = GOOD.split(".")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("no-dot-at-all", id="no separator"),
        pytest.param(PAYLOAD, id="payload only"),
        pytest.param("." + MAC, id="signature only"),
        pytest.param(PAYLOAD + "." + _flip(MAC, -1), id="last signature digit changed"),
        pytest.param(PAYLOAD + "." + _flip(MAC, 0), id="first signature digit changed"),
        pytest.param(PAYLOAD + "." + MAC[:-1], id="signature cut short"),
        pytest.param(PAYLOAD + "." + MAC + "0", id="signature too long"),
        pytest.param(_flip(PAYLOAD, 3) + "." + MAC, id="payload changed"),
        pytest.param(PAYLOAD + "." + "é" * len(MAC), id="non-ASCII signature"),
        pytest.param("é" + PAYLOAD + "." + MAC, id="non-ASCII payload"),
        pytest.param("%%%." + MAC, id="payload not base64"),
        pytest.param(tokens.sign("another-secret", CLAIM), id="signed with another key"),
    ],
)
def test_anything_but_the_signed_token_is_refused(token: str) -> None:
    assert tokens.verify(SECRET, token, NOW) is None


def test_a_well_signed_payload_of_the_wrong_shape_is_refused() -> None:
    payload = b"not|a|claim"
    encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    assert tokens.verify(SECRET, encoded + "." + tokens._mac(SECRET, payload), NOW) is None


def test_an_expired_token_is_refused() -> None:
    token = tokens.sign(SECRET, CLAIM)
    assert tokens.verify(SECRET, token, CLAIM.expires - timedelta(seconds=1)) == CLAIM
    assert tokens.verify(SECRET, token, CLAIM.expires) is None


PUSH = tokens.PushAckClaim(uuid.uuid4(), "stib-mivb", uuid.uuid4(), NOW + timedelta(hours=1))


def test_a_push_token_verifies_to_itself_and_expires() -> None:
    token = tokens.sign_push(SECRET, PUSH)
    assert tokens.verify_push(SECRET, token, NOW) == PUSH
    assert tokens.verify_push(SECRET, token, NOW + timedelta(hours=2)) is None
    assert tokens.verify_push("another-secret", token, NOW) is None
    assert tokens.verify_push(SECRET, _flip(token, 3), NOW) is None


def test_push_tokens_and_e_mail_links_never_pass_for_each_other() -> None:
    """Both name an alert, a partner and an id: only the purpose in the MAC tells them apart."""
    as_mail = tokens.AckClaim(PUSH.alert_id, PUSH.organisation, PUSH.user_id, PUSH.expires)
    assert tokens.verify(SECRET, tokens.sign_push(SECRET, PUSH), NOW) is None
    assert tokens.verify_push(SECRET, tokens.sign(SECRET, as_mail), NOW) is None
