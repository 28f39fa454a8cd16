"""Partners read the watch's words: an automatic alert, its CAP document and its e-mail name
the category, the severity and the CAP fields with the labels the dashboard shows, in the
reader's language (one vocabulary, app/vocabulary.py)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from lxml import etree

from app import vocabulary
from app.alerts.lifecycle.cap import NS
from tests.alerts.conftest import Inbox, alerts_of, incident, place, square
from tests.conftest import eventually

# What the dashboard shows, read from its own copy rather than from the server's module.
DASHBOARD: dict[str, Any] = json.loads(vocabulary.DASHBOARD_COPY.read_text(encoding="utf-8"))[
    "labels"
]
CAP_LANGUAGE = {"fr-BE": "fr", "nl-BE": "nl", "en": "en"}


async def test_alerts_cap_and_e_mail_name_a_category_as_the_dashboard_does(
    make_partner: Any, inbox: Inbox, client: httpx.AsyncClient
) -> None:
    partner = await make_partner()
    await partner.channel("email")
    address = f"jan@{partner.code}.test"
    await partner.contact("Jan Peeters", "nl", 0, email=address)
    lon, lat = place()
    await partner.subscribe(area_kind="polygon", polygon=square(lon, lat))
    # The two categories whose words had drifted between the watch and the partners.
    categories = ("shooting_stabbing", "utility_outage")
    for category in categories:
        body = incident(lon, lat, title=f"test {category}", category=category)
        assert (await client.post("/api/incidents", json=body)).status_code == 201

    async def both_alerts() -> list[dict[str, Any]] | None:
        found = await alerts_of(client, partner.code)
        return found if len(found) == len(categories) else None

    alerts = await eventually(both_alerts, "both alerts")
    for alert in alerts:
        (category,) = [c for c in categories if f"test {c}" in alert["texts"]["fr"]["headline"]]
        for lang, text in alert["texts"].items():
            words = DASHBOARD[lang]["category"][category]
            severity = DASHBOARD[lang]["severity"]["severe"].lower()
            assert text["event"] == words
            assert text["headline"].startswith(f"{words} ({severity}) — test {category}")
            assert DASHBOARD[lang]["incident_status"]["reported"].lower() in text["description"]

        root = etree.fromstring((await client.get(f"/api/alerts/{alert['id']}.cap")).content)
        events = {
            CAP_LANGUAGE[info.findtext(f"{{{NS}}}language")]: info.findtext(f"{{{NS}}}event")
            for info in root.iter(f"{{{NS}}}info")
        }
        assert events == {lang: DASHBOARD[lang]["category"][category] for lang in events}
        assert set(events) == {"fr", "nl", "en"}

    mails = await eventually(
        lambda: (found := inbox.to(address)) and len(found) == len(categories) and found,
        "both e-mails",
    )
    nl = DASHBOARD["nl"]
    # A reported incident is Likely (not yet confirmed), Immediate, and these are Severe.
    grading = " · ".join(
        (
            nl["cap_severity"]["Severe"],
            nl["cap_urgency"]["Immediate"],
            nl["cap_certainty"]["Likely"],
        )
    )
    for mail in mails:
        assert grading in mail.get_content()
    subjects = sorted(str(m["Subject"]) for m in mails)
    assert [any(nl["category"][c] in s for s in subjects) for c in categories] == [True, True]
