"""A page to a seat held by a SITCEN user reaches that user's registered devices by Web Push
(the local push service of tests/alerts/push_service.py): encrypted for the device, in its
language, naming the activation, its level and the seat; the notification's token
acknowledges the seat through the one write path, and no other kind of token does; a
partner's device gets nothing of it; a device its push service says is gone is removed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.alerts.channels import tokens
from tests.alerts.push_service import Device, PushService
from tests.cell.conftest import open_activation, seat
from tests.conftest import PASSWORD, Server, eventually


@pytest.fixture(scope="module")
def push_service() -> Iterator[PushService]:
    service = PushService()
    service.start()
    yield service
    service.stop()


async def _staff(server: Server, role: str, language: str) -> tuple[str, httpx.AsyncClient]:
    """A SITCEN user of its own (no device of another test reaches it), logged in."""
    name = f"staff-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as anon:
        admin = {"Authorization": f"Bearer {server.tokens['adm']}"}
        r = await anon.post(
            "/api/users",
            headers=admin,
            json={"username": name, "password": PASSWORD, "role": role, "language": language},
        )
        assert r.status_code == 201, r.text
        r = await anon.post("/api/auth/token", data={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
    return name, httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


async def _register(
    client: httpx.AsyncClient, push_service: PushService, language: str, *answers: Any
) -> tuple[Device, dict[str, Any]]:
    device = push_service.device(*answers)
    r = await client.post(
        "/api/push/subscriptions", json={**device.subscription, "language": language}
    )
    assert r.status_code == 201, r.text
    return device, dict(r.json())


async def _page(client: httpx.AsyncClient, aid: str, position: str) -> dict[str, Any]:
    r = await client.post(f"/api/activations/{aid}/page", json={"positions": [position]})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_staff_page_is_pushed_in_the_device_language_and_acknowledged_from_it(
    server: Server, client_for: Any, make_partner: Any, push_service: PushService
) -> None:
    coord = client_for("coord")
    name, official = await _staff(server, "official", "fr")
    async with official:
        device, _ = await _register(official, push_service, "nl")
        partner = await make_partner()
        spoc = await partner.user("nl")
        async with spoc:
            partner_device, _ = await _register(spoc, push_service, "nl")
        aid = (await open_activation(coord, level="crisis_cell"))["activation"]["id"]
        activation = (await coord.get(f"/api/activations/{aid}")).json()["properties"]
        held = await seat(coord, aid, role="high_official", holder_user=name)

        (paged,) = (await _page(coord, aid, held["id"]))["paged"]
        assert paged["live"] is True and paged["alert"] is None
        (request,) = await eventually(lambda: device.taken, "the page's push message")
        assert request["problems"] == [] and request["urgency"] == "high"
        assert request["topic"] == uuid.UUID(held["id"]).hex  # a reminder replaces it
        message = device.decrypt(request["body"])
        assert message["type"] == "page" and message["lang"] == "nl"
        assert message["activation"] == aid and message["position"] == held["id"]
        assert message["ref"] == activation["ref"] and message["level"] == "crisis_cell"
        assert message["headline"].startswith(f"Crisiscel {activation['ref']} (crisiscel)")
        assert held["properties"]["title"] in message["headline"]
        assert message["url"] == f"/#board/{aid}"
        with pytest.raises(Exception):  # noqa: B017  (http_ece raises the crypto library's)
            push_service.device().decrypt(request["body"])
        # A partner's device receives nothing of a SITCEN user's page.
        assert partner_device.requests == []

        token = message["ack"]["token"]
        assert message["ack"]["url"].endswith("/cell/ack/push")
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as anonymous:
            forged = await anonymous.post("/cell/ack/push", json={"token": token[:-2] + "00"})
            assert forged.status_code == 400
            assert forged.headers["content-type"].startswith("application/problem+json")
            r = await coord.get(f"/api/positions/{held['id']}")
            assert r.json()["properties"]["presence"] == "paged", "a refused token wrote nothing"

            r = await anonymous.post("/cell/ack/push", json={"token": token})
            assert r.status_code == 200, r.text
            props = r.json()["properties"]
            assert props["presence"] == "acknowledged" and props["updated_by"] == name
            assert props["acknowledged_at"] is not None

            # Once the holder answered, the notification cannot undo it.
            r = await official.post(
                f"/api/positions/{held['id']}/presence", json={"presence": "present"}
            )
            assert r.status_code == 200, r.text
            again = await anonymous.post("/cell/ack/push", json={"token": token})
            assert again.status_code == 409

            # The seat passes to someone else: the old notification no longer acknowledges.
            r = await coord.get(f"/api/positions/{held['id']}")
            version = r.json()["properties"]["version"]
            r = await coord.patch(
                f"/api/positions/{held['id']}",
                json={"type": "Feature", "properties": {"holder_user": "off"}},
                headers={"If-Match": f'"{version}"'},
            )
            assert r.status_code == 200, r.text
            stale = await anonymous.post("/cell/ack/push", json={"token": token})
            assert stale.status_code == 400


def test_page_and_alert_tokens_do_not_cross() -> None:
    secret, expires = "s" * 32, datetime.now(UTC) + timedelta(hours=1)
    ids = uuid.uuid4(), uuid.uuid4()
    page = tokens.sign_page(secret, tokens.PageAckClaim(ids[0], ids[1], expires))
    alert = tokens.sign_push(secret, tokens.PushAckClaim(ids[0], "part", ids[1], expires))
    assert tokens.verify_page(secret, page) is not None
    assert tokens.verify_page(secret, alert) is None
    assert tokens.verify_push(secret, page) is None
    late = datetime.now(UTC) + timedelta(hours=2)
    assert tokens.verify_page(secret, page, late) is None


@pytest.mark.parametrize("status", [404, 410])
async def test_a_gone_staff_device_is_removed(
    status: int, server: Server, client_for: Any, push_service: PushService
) -> None:
    coord = client_for("coord")
    name, operator = await _staff(server, "operator", "en")
    async with operator:
        device, _ = await _register(operator, push_service, "en", status)
        aid = (await open_activation(coord))["activation"]["id"]
        held = await seat(coord, aid, role="log_keeper", holder_user=name)
        await _page(coord, aid, held["id"])

        async def removed() -> bool:
            r = await operator.get("/api/push/subscriptions")
            return r.json()["subscriptions"] == []

        await eventually(removed, "the gone device to be removed")
        assert [r["status"] for r in device.requests] == [status]
        await _page(coord, aid, held["id"])  # a reminder: nothing more to that device
        r = await coord.get(f"/api/positions/{held['id']}")
        assert r.json()["properties"]["presence"] == "paged"
        assert len(device.requests) == 1


async def test_a_staff_page_push_is_retried_on_5xx_and_429(
    server: Server, client_for: Any, push_service: PushService
) -> None:
    coord = client_for("coord")
    name, coordinator = await _staff(server, "coordinator", "fr")
    async with coordinator:
        device, _ = await _register(
            coordinator, push_service, "fr", 503, (429, {"Retry-After": "0"})
        )
        aid = (await open_activation(coord))["activation"]["id"]
        held = await seat(coord, aid, role="d5", holder_user=name)
        await _page(coord, aid, held["id"])
        (request,) = await eventually(lambda: device.taken, "the page after two refusals")
        assert [r["status"] for r in device.requests] == [503, 429, 201]
        message = device.decrypt(request["body"])
        assert message["lang"] == "fr" and message["headline"].startswith("Cellule de crise")
        assert "(coordination)" in message["headline"]
        (state,) = (await coordinator.get("/api/push/subscriptions")).json()["subscriptions"]
        assert state["id"], "a device that failed for a while is kept"
