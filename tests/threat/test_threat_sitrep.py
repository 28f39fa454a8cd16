"""A SITREP shows the threat level that stood at its picture's time, for every reader (it is
public), in its JSON, its HTML and its PDF, in the reader's language; a later change of the
level does not change a SITREP already generated."""

from __future__ import annotations

from typing import Any

from tests.reports.conftest import pdf_text, sitrep
from tests.threat.test_threat_level import marker, set_level

LEVEL_WORDS = {"fr": "Niveau de la menace (OCAM)", "nl": "Dreigingsniveau (OCAD)"}
NAMES = {"fr": "Grave", "nl": "Ernstig", "en": "Serious"}


def flat(text: str) -> str:
    # pypdf spaces out the letters of some runs and leaves NULs in two-byte ones.
    return "".join(text.replace("\x00", "").split())


async def test_a_sitrep_shows_the_level_of_its_time_to_every_reader_in_every_format(
    client_for: Any,
) -> None:
    op, part = client_for("op"), client_for("part")
    reference = f"OCAM/2026/{marker()}"
    general = await set_level(op, 3, source_reference=reference)
    target = f"Grande Synagogue {marker()}"
    specific = await set_level(op, 4, sector="jewish_community", target=target)
    report = await sitrep(op, visibility="shared", shared_with=["pz-5339"])
    url = f"/api/sitreps/{report['id']}"
    await set_level(op, 2)  # after the SITREP: not in it

    for reader in (op, part):
        picture = (await reader.get(f"{url}/content")).json()["picture"]
        stood = picture["threat_level"]
        assert stood["general"]["id"] == general["setting"]["id"]
        assert specific["setting"]["id"] in [s["id"] for s in stood["specific"]]

    html = await part.get(f"{url}/html", params={"lang": "nl"})
    assert html.status_code == 200
    assert LEVEL_WORDS["nl"] in html.text and "Ernstig" in html.text and reference in html.text
    assert target in html.text and "Joodse gemeenschap" in html.text and "Zeer ernstig" in html.text
    pdf = await op.get(f"{url}/pdf", params={"lang": "fr"})
    assert pdf.status_code == 200
    text = flat(pdf_text(pdf.content))
    assert flat(LEVEL_WORDS["fr"]) in text and flat(reference) in text
    assert flat("Communauté juive") in text and flat("Très grave") in text
