"""Sending an approved SITREP to its partners through alerting: one alert to the organisations
of its audience, an e-mail to the on-duty SPOC with the link and the PDF of that partner's
version in the SPOC's language, acknowledged as every alert is, and followed on the SITREP."""

from __future__ import annotations

from typing import Any

from tests.conftest import eventually
from tests.reports.conftest import (
    BOURSE,
    FLAGEY,
    created,
    inbox,
    incident,
    make_partner,
    marker,
    pdf_text,
    sitrep,
)
from tests.samples import SAMPLES, feature

__all__ = ["inbox", "make_partner"]


async def test_an_approved_sitrep_goes_to_its_partners_with_their_pdf_and_is_acknowledged(
    client_for: Any, make_partner: Any, inbox: Any
) -> None:
    op, coord = client_for("op"), client_for("coord")
    stib, other = await make_partner(), await make_partner()
    address = f"{marker()}@stib.test"
    await stib.contact("Permanence STIB", "nl", 0, email=address)
    await stib.channel("email")
    spoc = await stib.user("nl")
    cell = await created(op.post("/api/activations", json=SAMPLES["activations"][0]))
    for org in (stib.code, other.code):
        seat = feature(
            None,
            title=f"Liaison {org}",
            activation_id=cell["id"],
            role="partner_liaison",
            holder_organisation=org,
        )
        await created(op.post("/api/positions", json=seat))
    m = marker()
    theirs = await incident(op, f"{m} métro Bourse", BOURSE, "severe", shared_with=[stib.code])
    hidden = await incident(op, f"{m} interne Flagey", FLAGEY, "minor")
    elsewhere = await incident(op, f"{m} autre", FLAGEY, "minor", shared_with=[other.code])
    report = await sitrep(op, activation_id=cell["id"], shared_with=[stib.code])
    url = f"/api/sitreps/{report['id']}"

    draft = await op.post(f"{url}/send")
    assert draft.status_code == 409 and "draft" in draft.json()["detail"]
    assert (await client_for("part").post(f"{url}/send")).status_code == 403
    assert (await coord.post(f"{url}/approve")).status_code == 200
    sent = await op.post(f"{url}/send")
    assert sent.status_code == 201, sent.text
    assert sent.json()["organisations"] == [stib.code]  # its audience only

    mail = await eventually(lambda: inbox.to(address), "the SITREP's e-mail")
    message = mail[0]
    assert report["properties"]["ref"] in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"/api/sitreps/{report['id']}/html?lang=nl" in body and "/alerts/ack?token=" in body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{report['properties']['ref']}-nl.pdf"
    text = pdf_text(attachment.get_content())
    assert "Open incidenten" in text and theirs["properties"]["ref"] in text
    assert f"Versie voor {stib.code}" in text
    for word in (hidden["properties"]["ref"], elsewhere["properties"]["ref"]):
        assert word not in text

    alert_id = sent.json()["alert"]
    assert (await spoc.post(f"/api/alerts/{alert_id}/ack")).status_code in (200, 201)
    followed = (await op.get(f"{url}/sent")).json()["sendings"]
    ((recipient,),) = [s["recipients"] for s in followed]
    assert recipient["organisation"] == stib.code and recipient["acknowledged_at"]
    own = (await spoc.get(f"{url}/sent")).json()["sendings"]
    assert [r["organisation"] for s in own for r in s["recipients"]] == [stib.code]
    await spoc.aclose()
