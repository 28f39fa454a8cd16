"""Emergency plans: linked to their zones and opened from them, naming contacts of the
directory that resolve when read (a changed number shows at once, nothing is copied), and a
partner sees another partner's contact as its organisation and function only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.partners.directory import plan_contacts
from tests.cell.organisations import Organisation, organisations
from tests.conftest import Server
from tests.routes import blanked
from tests.samples import SAMPLES, feature, square

Sessions = async_sessionmaker[AsyncSession]
Pair = tuple[Organisation, Organisation]
STADIUM = (4.334, 50.8957)


@pytest.fixture
async def orgs(server: Server) -> AsyncIterator[Pair]:
    async for pair in organisations(server):
        yield pair


async def contact(client: httpx.AsyncClient, org: str, function: str, **fields: Any) -> str:
    body = {"organisation": org, "function": function, "phone_24_7": "02 501 05 11", **fields}
    r = await client.post("/api/directory", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def zone(client: httpx.AsyncClient, title: str) -> str:
    body = feature(square(*STADIUM), title=title, kind="security_perimeter")
    r = await client.post("/api/zones", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def plan(title: str, **props: Any) -> dict[str, Any]:
    return feature(None, title=title, kind=props.pop("kind", "special"), **props)


async def create(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post("/api/plans", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def contacts_of(client: httpx.AsyncClient, plan_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/plans/{plan_id}/contacts")
    assert r.status_code == 200, r.text
    return list(r.json()["contacts"])


async def test_a_plan_shows_the_directory_s_current_number_never_a_copy(
    client: httpx.AsyncClient, orgs: Pair
) -> None:
    a, _ = orgs
    officer = await contact(client, a.code, "Officier de garde D1", radio_talkgroup="BXL-D1")
    made = await create(
        client, plan("PPUI Stade Roi Baudouin", contact_ids=[officer], review_due=None)
    )
    assert made["properties"]["contact_ids"] == [officer]
    assert made["properties"]["ref"].startswith("PLN-")
    (before,) = await contacts_of(client, made["id"])
    assert (before["phone_24_7"], before["radio_talkgroup"]) == ("+3225010511", "BXL-D1")

    r = await client.patch(
        f"/api/directory/{officer}", json={"phone_24_7": "0475 12 34 56", "radio_talkgroup": "D1-2"}
    )
    assert r.status_code == 200, r.text
    (after,) = await contacts_of(client, made["id"])
    assert (after["phone_24_7"], after["radio_talkgroup"]) == ("+32475123456", "D1-2")
    stored = (await client.get(f"/api/plans/{made['id']}")).json()
    assert stored["properties"]["version"] == 1, "the plan itself did not change"
    assert "+3225010511" not in str(stored) and "+32475123456" not in str(stored)

    await client.delete(f"/api/directory/{officer}")
    assert await contacts_of(client, made["id"]) == [{"id": officer, "removed": True}]
    # The removed entry blocks no other change of the plan; naming it again is refused.
    r = await client.patch(
        f"/api/plans/{made['id']}",
        json={"type": "Feature", "properties": {"status": "in_force"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/api/plans/{made['id']}",
        json={"type": "Feature", "properties": {"contact_ids": [officer, officer]}},
        headers={"If-Match": '"2"'},
    )
    assert r.status_code == 422 and "contact_ids" in str(r.json()["errors"])


async def test_plans_open_from_their_zones(client: httpx.AsyncClient) -> None:
    site, perimeter, other = (
        await zone(client, "Stade"),
        await zone(client, "Périmètre"),
        await zone(client, "Ailleurs"),
    )
    special = await create(
        client,
        plan("PPUI stade", subject_entity="zone", subject_id=site, zone_ids=[perimeter]),
    )
    assert special["properties"]["zone_ids"] == [site, perimeter], "its site is one of its zones"
    intervention = await create(
        client, plan("PIM D2 stade", kind="intervention", discipline="d2", zone_ids=[perimeter])
    )

    async def listed(**params: str) -> list[str]:
        r = await client.get("/api/plans", params=params)
        assert r.status_code == 200, r.text
        return [f["id"] for f in r.json()["features"]]

    assert await listed(zone=site) == [special["id"]]
    assert await listed(zone=perimeter) == [intervention["id"], special["id"]]
    assert await listed(zone=other) == []
    assert await listed(subject=site) == [special["id"]]
    assert await listed(zone=perimeter, kind="intervention") == [intervention["id"]]
    r = await client.get("/api/incidents", params={"zone": perimeter})
    assert r.json()["features"] == [], "a kind that links no zones has none linked"
    r = await client.get("/api/plans", params={"zone": "not-an-id"})
    # As for ?subject= and ?activation=: no such zone, said so (app.api.deps.parse_uuid).
    assert r.status_code == 404 and "not a valid zone" in r.text
    r = await client.get("/api/features/collections/plans/items", params={"zone": perimeter})
    assert r.status_code == 200 and {f["id"] for f in r.json()["features"]} == {
        intervention["id"],
        special["id"],
    }
    (written,) = (await client.get(f"/api/plans/{special['id']}/history")).json()["changes"]
    r = await client.get("/api/plans", params={"zone": perimeter, "at": written["at"]})
    assert r.status_code == 200, r.text
    assert [f["id"] for f in r.json()["features"]] == [special["id"]], "as it stood then"


@pytest.mark.parametrize(
    ("props", "where"),
    [
        ({"zone_ids": [str(uuid.uuid4())]}, "zone_ids"),
        ({"contact_ids": [str(uuid.uuid4())]}, "contact_ids"),
        ({"kind": "intervention"}, "discipline"),
        ({"discipline": "d6"}, "discipline"),
        ({"kind": "local"}, "kind"),
        ({"status": "approved"}, "status"),
        ({"subject_entity": "zone"}, "subject_id"),
        ({"subject_entity": "incident", "subject_id": str(uuid.uuid4())}, "subject_entity"),
        ({"subject_entity": "planned_event", "subject_id": str(uuid.uuid4())}, "subject_id"),
        ({"review_due": "next spring"}, "review_due"),
        ({"zone_ids": ["x"] * 3}, "zone_ids"),
    ],
)
async def test_bad_plans_are_refused_naming_the_field_and_nothing_is_written(
    client: httpx.AsyncClient, props: dict[str, Any], where: str
) -> None:
    title = f"PPUI refusé {uuid.uuid4().hex[:8]}"
    body = plan(title, **props)
    r = await client.post("/api/plans", json=body)
    assert r.status_code == 422, r.text
    assert where in str(r.json()["errors"])
    assert (await client.get("/api/plans", params={"q": title})).json()["features"] == []


async def test_a_bad_change_leaves_the_plan_as_it_was(client: httpx.AsyncClient) -> None:
    made = await create(client, plan("PIU site Seveso", kind="internal"))
    for change in ({"zone_ids": [str(uuid.uuid4())]}, {"contact_ids": [str(uuid.uuid4())]}):
        r = await client.patch(
            f"/api/plans/{made['id']}",
            json={"type": "Feature", "properties": change},
            headers={"If-Match": '"1"'},
        )
        assert r.status_code == 422, r.text
    assert (await client.get(f"/api/plans/{made['id']}")).json() == made


async def test_a_partner_sees_another_partner_s_contact_as_organisation_and_function_only(
    client: httpx.AsyncClient, orgs: Pair
) -> None:
    a, b = orgs
    mine = await contact(client, a.code, "Permanence A", name="Agent A", email="a@a.test")
    theirs = await contact(
        client, b.code, "Dir-CoMs B", name="Commissaire B", email="b@b.test", notes="bip 77"
    )
    internal = await contact(client, "pz-5339", "Officier de garde", name="Interne")
    shared = await create(
        client,
        plan("PPUI partagé", contact_ids=[mine, theirs], shared_with=[a.code, b.code]),
    )
    hidden = await create(client, plan("PPUI interne", contact_ids=[internal, theirs]))

    seen_by_a = await contacts_of(a.spoc, shared["id"])
    assert seen_by_a[0]["id"] == mine and seen_by_a[0]["phone_24_7"] == "+3225010511"
    assert seen_by_a[1] == {"organisation": b.code, "function": "Dir-CoMs B", "restricted": True}
    text = str(seen_by_a)
    for secret in (theirs, "Commissaire B", "b@b.test", "bip 77"):
        assert secret not in text
    seen_by_b = await contacts_of(b.spoc, shared["id"])
    assert seen_by_b[0] == {"organisation": a.code, "function": "Permanence A", "restricted": True}
    assert seen_by_b[1]["name"] == "Commissaire B"
    seen_by_staff = await contacts_of(client, shared["id"])
    assert [c["restricted"] for c in seen_by_staff] == [False, False]

    unknown = str(uuid.uuid4())
    r_hidden = await a.spoc.get(f"/api/plans/{hidden['id']}/contacts")
    r_unknown = await a.spoc.get(f"/api/plans/{unknown}/contacts")
    assert r_hidden.status_code == 404
    assert blanked(r_hidden, hidden["id"]) == blanked(r_unknown, unknown)
    assert "Interne" not in r_hidden.text
    await client.delete(f"/api/directory/{internal}")  # pz-5339 is the session's partner A


async def test_plan_contacts_gives_an_activation_the_current_active_entries(
    client: httpx.AsyncClient, orgs: Pair, sessions: Sessions
) -> None:
    a, b = orgs
    first = await contact(client, b.code, "Officier de garde D3")
    off_duty = await contact(client, a.code, "Ancien numéro", active=False)
    second = await contact(client, a.code, "Dir-Med")
    made = await create(client, plan("PPUI", contact_ids=[first, off_duty, second, first]))
    assert made["properties"]["contact_ids"] == [first, off_duty, second], "once each"
    await client.patch(f"/api/directory/{second}", json={"phone": "0475 99 88 77"})

    async with sessions() as session:
        paged = await plan_contacts(session, uuid.UUID(made["id"]))
        missing = await plan_contacts(session, uuid.uuid4())
    assert [(str(c.entry.id), c.organisation) for c in paged] == [
        (first, b.code),
        (second, a.code),
    ]
    assert paged[1].entry.phone == "+32475998877"
    assert missing == []


async def test_the_sample_plan_is_a_valid_plan(client: httpx.AsyncClient) -> None:
    body, change = SAMPLES["plans"]
    made = await create(client, body)
    assert made["properties"]["status"] == "draft" and made["geometry"]["type"] == "Polygon"
    r = await client.patch(
        f"/api/plans/{made['id']}",
        json={"type": "Feature", "properties": change},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200 and r.json()["properties"]["status"] == "in_force"


async def test_a_partner_opens_from_a_zone_only_the_plans_shared_with_it(
    client: httpx.AsyncClient, orgs: Pair
) -> None:
    a, b = orgs
    site = await zone(client, "Site Seveso")
    for_a = await create(client, plan("PIU pour A", zone_ids=[site], shared_with=[a.code]))
    await create(client, plan("PIU pour B", zone_ids=[site], shared_with=[b.code]))
    await create(client, plan("PIU interne", zone_ids=[site]))

    r = await a.spoc.get("/api/plans", params={"zone": site})
    assert r.status_code == 200, r.text
    assert [f["id"] for f in r.json()["features"]] == [for_a["id"]]
    assert "PIU pour B" not in r.text and "PIU interne" not in r.text
    r = await client.get("/api/plans", params={"zone": site})
    assert len(r.json()["features"]) == 3
