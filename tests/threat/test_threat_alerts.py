"""A threat level set goes to every partner at once as a CAP alert of category Security, in
French, Dutch and English with OCAM/CUTA's own words, by every channel (live on /ws, webhook,
e-mail); a later level updates it, a sector's level lifted cancels it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.alerts.conftest import Inbox, Receiver, inbox, make_partner, receiver
from tests.conftest import Server, eventually
from tests.realtime.conftest import open_feed
from tests.threat.test_threat_level import marker, set_level

__all__ = ["inbox", "make_partner", "receiver"]
PARTNERS = {"part": "pz-5339", "part-b": "pz-5340"}


async def alert(client: httpx.AsyncClient, alert_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/alerts/{alert_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_both_partners_and_every_channel_get_the_new_level_in_three_languages(
    server: Server,
    client_for: Any,
    make_partner: Any,
    inbox: Inbox,
    receiver: Receiver,
) -> None:
    hooked, mailed = await make_partner(), await make_partner()
    hook = await hooked.webhook(receiver)
    await mailed.channel("email")
    address = f"spoc@{mailed.code}.test"
    await mailed.contact("Permanence", "nl", 0, email=address)
    feeds = {who: await open_feed(server, who) for who in PARTNERS}
    for feed in feeds.values():
        feed.read_in_background()
    reference, reason = f"OCAM/2026/{marker()}", "Menace sérieuse et imminente"
    try:
        done = await set_level(client_for("coord"), 4, reason=reason, source_reference=reference)
        sent = done["alert"]
        assert {*PARTNERS.values(), hooked.code, mailed.code} <= set(sent["organisations"])
        for who, feed in feeds.items():

            def arrived(f: Any) -> bool:
                return any(
                    m["type"] == "alert" and m["alert"]["id"] == sent["id"] for m in f.messages
                )

            await feed.wait_for(arrived)
            (pushed,) = [
                m for m in feed.messages if m["type"] == "alert" and m["alert"]["id"] == sent["id"]
            ]
            assert [r["organisation"] for r in pushed["recipients"]] == [PARTNERS[who]]
    finally:
        for feed in feeds.values():
            await feed.close()

    for who, organisation in PARTNERS.items():
        partner = client_for(who)
        read = await alert(partner, sent["id"])
        assert [r["organisation"] for r in read["recipients"]] == [organisation]
        assert (read["status"], read["categories"], read["severity"]) == (
            "Actual",
            ["Security"],
            "Extreme",
        )
        assert (read["origin"], read["entity"]) == ("threat_level", "threat_level")
        texts = read["texts"]
        assert texts["fr"]["headline"].startswith("Niveau de la menace OCAM : 4 (très grave)")
        assert texts["nl"]["headline"].startswith("Dreigingsniveau OCAD: 4 (zeer ernstig)")
        assert texts["en"]["headline"].startswith("CUTA threat level: 4 (very serious)")
        for lang in ("fr", "nl", "en"):
            assert reference in texts[lang]["description"]
            assert reason in texts[lang]["description"]
        cap = await partner.get(f"/api/alerts/{sent['id']}.cap")
        assert cap.status_code == 200
        assert "<category>Security</category>" in cap.text
        for language in ("fr-BE", "nl-BE", "en"):
            assert f"<language>{language}</language>" in cap.text

    def delivered() -> list[dict[str, Any]]:
        return [b for b in hook.processed.values() if b["alert"]["id"] == sent["id"]]

    (posted,) = await eventually(delivered, "the webhook of the partner that has one")
    assert posted["organisation"] == hooked.code
    assert posted["alert"]["texts"]["nl"]["headline"].startswith("Dreigingsniveau OCAD")

    def mailed_to() -> list[Any]:
        return [m for m in inbox.to(address) if "Dreigingsniveau OCAD" in m["Subject"]]

    (mail,) = await eventually(mailed_to, "the Dutch-speaking SPOC's e-mail")
    assert reference in mail.get_body(preferencelist=("plain",)).get_content()


async def test_a_new_level_updates_the_last_alert_and_a_lifted_one_cancels_it(
    client_for: Any,
) -> None:
    off = client_for("off")
    target = f"Gare {marker()}"
    first = await set_level(off, 2, sector="public_transport", target=target)
    assert first["alert"]["msg_type"] == "Alert"
    raised = await set_level(off, 3, sector="public_transport", target=target)
    assert raised["alert"]["msg_type"] == "Update"
    updated = await alert(off, raised["alert"]["id"])
    assert updated["references"] == first["alert"]["id"]
    assert "Niveau précédent: 2 (moyen)" in updated["texts"]["fr"]["description"]
    lifted = await set_level(off, None, sector="public_transport", target=target)
    assert lifted["alert"]["msg_type"] == "Cancel"
    cancelled = await alert(client_for("part-b"), lifted["alert"]["id"])
    assert cancelled["references"] == raised["alert"]["id"]
    assert "le niveau général s'applique" in cancelled["texts"]["fr"]["headline"]


async def test_no_partner_subscribes_to_what_it_gets_anyway(client_for: Any) -> None:
    r = await client_for("part").post(
        "/api/subscriptions",
        json={"name": "Menace", "entities": ["incident", "threat_level"], "area_kind": "region"},
    )
    assert r.status_code == 422, r.text
    assert [e["loc"][-1] for e in r.json()["errors"]] == ["entities"]
    assert "already" in r.text
