"""CAP 1.2 on its own: documents valid against the official OASIS schema (read from
../shared/data/cap), a faithful round trip, lat/lon order, and hostile XML refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from app.alerts.lifecycle import cap
from app.alerts.models import Alert
from app.errors import ProblemError
from app.settings import PROJECT_ROOT

XSD = PROJECT_ROOT.parent / "shared" / "data" / "cap" / "cap-1.2.xsd"
SENDER = "sitcen@safe.brussels"
NS = cap.NS


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def alert(area: dict[str, Any] | None, **fields: Any) -> Alert:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "ref": f"ALR-2026-{uuid.uuid4().int % 10**6:06d}",
        "status": "Actual",
        "msg_type": "Alert",
        "severity": "Severe",
        "urgency": "Immediate",
        "certainty": "Observed",
        "categories": ["Fire"],
        "event": "Fire",
        "texts": {
            "fr": {"headline": "Incendie — Bruxelles", "description": "Feu de poubelle & fumée"},
            "nl": {"headline": "Brand — Brussel", "instruction": "Ramen sluiten <nu>"},
            "en": {"headline": "Fire — Brussels"},
        },
        "area_desc": "Bruxelles",
        "area": area,
        "area_codes": ["21004"],
        "entity": "incident",
        "entity_ref": "INC-2026-000042",
        "sent_at": datetime(2026, 9, 26, 8, 0, 0, 123456, tzinfo=UTC),
        "expires_at": datetime(2026, 9, 26, 20, 0, tzinfo=UTC),
        **fields,
    }
    return Alert(**values)


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[4.35, 50.84], [4.36, 50.84], [4.36, 50.85], [4.35, 50.85], [4.35, 50.84]]],
}
AREAS = {
    "point": {"type": "Point", "coordinates": [4.3525, 50.8467]},
    "polygon": SQUARE,
    "multipolygon": {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]] * 2},
    "route": {"type": "LineString", "coordinates": [[4.36, 50.86], [4.37, 50.844]]},
    "no area": None,
}


def document(a: Alert, referenced: Alert | None = None) -> bytes:
    message = cap.from_alert(
        a,
        sender=SENDER,
        web="https://sitcen.example/x",
        referenced=referenced,
        addresses=["pz-5339", "stib-mivb"],
    )
    return cap.render(message)


@pytest.mark.parametrize("area", list(AREAS.values()), ids=list(AREAS))
def test_alert_document_is_valid_cap_1_2(schema: etree.XMLSchema, area: Any) -> None:
    xml = document(alert(area))
    schema.assertValid(etree.fromstring(xml))


def test_text_stored_before_input_was_checked_still_makes_valid_cap(
    schema: etree.XMLSchema,
) -> None:
    """Control characters are refused at input now (app/text.py); an alert stored before
    must not make its CAP document, or the Atom feed listing it, fail."""
    texts = {"fr": {"headline": "Incendie\x07 — Bruxelles", "description": "Feu\x00 de poubelle"}}
    root = etree.fromstring(document(alert(SQUARE, texts=texts)))
    schema.assertValid(root)
    assert root.findtext(f"{{{NS}}}info/{{{NS}}}headline") == "Incendie — Bruxelles"


def test_update_and_cancel_reference_the_earlier_alert(schema: etree.XMLSchema) -> None:
    first = alert(SQUARE)
    for msg_type in ("Update", "Cancel"):
        later = alert(SQUARE, msg_type=msg_type, status="Exercise")
        root = etree.fromstring(document(later, referenced=first))
        schema.assertValid(root)
        (references,) = root.findall(f"{{{NS}}}references")
        assert references.text == f"{SENDER},BE-BRU-SITCEN-{first.ref},2026-09-26T10:00:00+02:00"


def test_times_carry_the_brussels_offset_never_z() -> None:
    root = etree.fromstring(document(alert(None)))
    assert root.findtext(f"{{{NS}}}sent") == "2026-09-26T10:00:00+02:00"
    assert root.findtext(f"{{{NS}}}info/{{{NS}}}expires") == "2026-09-26T22:00:00+02:00"


def test_one_info_block_per_language() -> None:
    root = etree.fromstring(document(alert(None)))
    languages = [e.text for e in root.iter(f"{{{NS}}}language")]
    assert languages == ["fr-BE", "nl-BE", "en"]


def test_cap_writes_latitude_first() -> None:
    root = etree.fromstring(document(alert(AREAS["point"])))
    assert root.findtext(f".//{{{NS}}}circle") == "50.846700,4.352500 0"
    root = etree.fromstring(document(alert(SQUARE)))
    assert root.findtext(f".//{{{NS}}}polygon").startswith("50.840000,4.350000 50.840000,4.360000")


@pytest.mark.parametrize("area", list(AREAS.values()), ids=list(AREAS))
def test_round_trip_out_and_in_keeps_the_content(area: Any) -> None:
    first = alert(SQUARE)
    message = cap.from_alert(alert(area), sender=SENDER, web="https://x/y", referenced=first)
    assert cap.parse(cap.render(message)) == message


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE alert SYSTEM "http://127.0.0.1:9/evil.dtd">
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>"""


@pytest.mark.parametrize(
    "xml",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, b"<alert", b"<other/>", b"\xff\xfe"],
    ids=["billion laughs", "external entity", "external DTD", "truncated", "not CAP", "binary"],
)
def test_hostile_or_malformed_xml_is_refused_with_400(xml: bytes) -> None:
    with pytest.raises(ProblemError) as refused:
        cap.parse(xml)
    assert refused.value.status == 400


def _minimal(references: str | None = None, **overrides: str) -> bytes:
    fields = {
        "identifier": "PARTNER-1",
        "sender": "ops@partner.example",
        "sent": "2026-09-26T10:00:00+02:00",
        "status": "Actual",
        "msgType": "Alert",
        "scope": "Public",
        "severity": "Severe",
        "polygon": "50.84,4.35 50.84,4.36 50.85,4.36 50.84,4.35",
        **overrides,
    }
    return f"""<alert xmlns="{NS}"><identifier>{fields["identifier"]}</identifier>
<sender>{fields["sender"]}</sender><sent>{fields["sent"]}</sent>
<status>{fields["status"]}</status><msgType>{fields["msgType"]}</msgType>
<scope>{fields["scope"]}</scope>{f"<references>{references}</references>" if references else ""}
<info><category>Fire</category><event>Fire</event>
<urgency>Immediate</urgency><severity>{fields["severity"]}</severity>
<certainty>Observed</certainty><area><areaDesc>x</areaDesc>
<polygon>{fields["polygon"]}</polygon></area></info></alert>""".encode()


def test_a_minimal_partner_alert_parses() -> None:
    message = cap.parse(_minimal())
    assert message.infos[0].areas[0].polygons[0][0] == (50.84, 4.35)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"sent": "2026-09-26T08:00:00Z"}, "sent"),
        ({"sent": "9999-12-31T23:59:59-14:00"}, "sent"),
        ({"sent": "0001-01-01T00:00:00+14:00"}, "sent"),
        ({"status": "Real"}, "status"),
        ({"severity": "Bad"}, "severity"),
        ({"identifier": "has space"}, "identifier"),
        ({"sender": "ops,partner"}, "sender"),
        ({"polygon": "50.84,4.35 50.84,4.36 50.85,4.36 50.85,4.35"}, "polygon"),
        ({"polygon": "4.35,50.84 4.36,50.84 91.0,4.36 4.35,50.84"}, "polygon"),
    ],
    ids=[
        "Z time",
        "after year 9999 in UTC",
        "before year 1 in UTC",
        "status",
        "severity",
        "identifier",
        "sender with a comma",
        "unclosed polygon",
        "latitude > 90",
    ],
)
def test_wrong_cap_fields_are_named(override: dict[str, str], field: str) -> None:
    with pytest.raises(ProblemError) as refused:
        cap.parse(_minimal(**override))
    assert refused.value.status == 422
    assert any(field in e["loc"] for e in refused.value.errors or []), refused.value.errors


@pytest.mark.parametrize(
    "references",
    [
        "ops@partner.example,PARTNER-0",
        "ops@partner.example,PARTNER-0,2026-09-26T09:00:00+02:00 PARTNER-00",
        "ops@partner.example,,2026-09-26T09:00:00+02:00",
        "ops@partner.example," + "x" * 251 + ",2026-09-26T09:00:00+02:00",
        " ".join(f"ops@partner.example,PARTNER-{i},2026-09-26T09:00:00+02:00" for i in range(501)),
    ],
    ids=[
        "no sent",
        "second not a triple",
        "empty identifier",
        "identifier too long",
        "more than 500",
    ],
)
def test_a_reference_is_sender_identifier_sent(references: str) -> None:
    with pytest.raises(ProblemError) as refused:
        cap.parse(_minimal(references=references, msgType="Update"))
    assert refused.value.status == 422
    assert any("references" in e["loc"] for e in refused.value.errors or []), refused.value.errors


def test_references_name_messages_by_sender_and_identifier() -> None:
    references = (
        "cap-pac@canada.ca,urn:oid:2.49.0.1.124.0642871265.2019,2019-01-08T19:55:40-00:00 "
        "cap-pac@canada.ca,urn:oid:2.49.0.1.124.2407362607.2019,2019-01-08T19:56:40-00:00"
    )
    message = cap.parse(_minimal(references=references, msgType="Update"))
    assert [cap.reference_key(r) for r in message.references] == [
        ("cap-pac@canada.ca", "urn:oid:2.49.0.1.124.0642871265.2019"),
        ("cap-pac@canada.ca", "urn:oid:2.49.0.1.124.2407362607.2019"),
    ]
