"""Partners' SPOCs, channels and subscriptions through the API: a partner manages its own and
cannot see another's; channel secrets are shown once; every write names its author."""

from __future__ import annotations

from typing import Any

import httpx

from tests.alerts.conftest import place, square


async def test_partner_manages_its_own_spocs_channels_and_subscriptions(make_partner: Any) -> None:
    mine, theirs = await make_partner(), await make_partner()
    spoc = await mine.user()
    try:
        r = await spoc.post(
            f"/api/partners/{mine.code}/contacts",
            json={
                "name": "Nachtdienst",
                "language": "nl",
                "rank": 0,
                "email": "nacht@pz.test",
                "on_duty_from": "22:00",
                "on_duty_to": "06:00",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["updated_by"].startswith("spoc-")
        contact = r.json()["id"]
        r = await spoc.patch(f"/api/partners/{mine.code}/contacts/{contact}", json={"rank": 2})
        assert r.status_code == 200 and r.json()["rank"] == 2

        lon, lat = place()
        r = await spoc.post(
            "/api/subscriptions",
            json={"name": "Ons gebied", "area_kind": "polygon", "polygon": square(lon, lat)},
        )
        assert r.status_code == 201, r.text
        assert r.json()["organisation"] == mine.code
        subscription = r.json()["id"]

        assert (await spoc.get(f"/api/partners/{theirs.code}")).status_code == 404
        refused = await spoc.post(
            f"/api/partners/{theirs.code}/contacts", json={"name": "x", "language": "fr"}
        )
        assert refused.status_code == 404
        refused = await spoc.post(
            "/api/subscriptions",
            json={"organisation": theirs.code, "name": "x", "area_kind": "region"},
        )
        assert refused.status_code == 404
        listed = (await spoc.get("/api/partners")).json()["partners"]
        assert [p["organisation"] for p in listed] == [mine.code]
        subs = (await spoc.get("/api/subscriptions")).json()["subscriptions"]
        assert [s["id"] for s in subs] == [subscription]
        theirs_sub = await theirs.subscribe(area_kind="region")
        assert (await spoc.get(f"/api/subscriptions/{theirs_sub['id']}")).status_code == 404
        assert (await spoc.delete(f"/api/subscriptions/{subscription}")).status_code == 204
    finally:
        await spoc.aclose()


async def test_webhook_secret_is_shown_once_and_can_be_rotated(make_partner: Any) -> None:
    partner = await make_partner()
    created = await partner.channel("webhook", "https://partner.example/hook")
    assert created["secret"].startswith("whsec_")
    shown = (await partner.coord.get(f"/api/partners/{partner.code}")).json()["channels"]
    assert "secret" not in shown[0]
    r = await partner.coord.post(
        f"/api/partners/{partner.code}/channels/{created['id']}/rotate-secret"
    )
    assert r.status_code == 200 and r.json()["secret"] not in (None, created["secret"])
    bad = await partner.coord.post(
        f"/api/partners/{partner.code}/channels", json={"kind": "webhook"}
    )
    assert bad.status_code == 422


async def test_subscription_areas_are_checked(make_partner: Any) -> None:
    partner = await make_partner()
    post = partner.coord.post
    cases = [
        ({"area_kind": "polygon"}, "polygon"),
        ({"area_kind": "polygon", "polygon": square(2.0, 48.8)}, "polygon"),
        ({"area_kind": "zone", "zone_id": "0190f2f0-0000-7000-8000-000000000000"}, "zone_id"),
        ({"area_kind": "municipalities"}, "codes"),
        ({"area_kind": "region", "min_severity": "huge"}, "min_severity"),
    ]
    for body, field in cases:
        r = await post(
            "/api/subscriptions", json={"organisation": partner.code, "name": "x", **body}
        )
        assert r.status_code == 422, (body, r.text)
        assert field in str(r.json()["errors"]), (body, r.json())


async def test_operators_subscribe_partners_but_only_coordinators_manage_their_channels(
    make_partner: Any, client_for: Any
) -> None:
    partner = await make_partner()
    operator: httpx.AsyncClient = client_for("op")
    r = await operator.post(
        "/api/subscriptions",
        json={
            "organisation": partner.code,
            "name": "x",
            "area_kind": "police_zones",
            "codes": ["5341"],
        },
    )
    assert r.status_code == 201 and r.json()["created_by"] == "op"
    missing = await operator.post("/api/subscriptions", json={"name": "x"})
    assert missing.status_code == 422
    refused = await operator.post(f"/api/partners/{partner.code}/channels", json={"kind": "email"})
    assert refused.status_code == 403
