"""One source for the words and rules the server and the dashboard share (app/vocabulary.py):
every enum a person reads is named in FR, NL and EN, and the dashboard's copy is exactly what
the server declares."""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from enum import StrEnum
from pathlib import Path

import app
from app import vocabulary
from app.audit import AuditKind
from app.domain.registry import SPECS
from app.partners.models import AreaKind, OrganisationKind

# Enums no screen, alert or e-mail shows in words: each language names itself in its own
# catalogue; the others are read by machines and administrators as the API's values.
UNLABELLED = {OrganisationKind, AuditKind, AreaKind}


def _enums_of_the_app() -> set[type[StrEnum]]:
    found: set[type[StrEnum]] = set()
    for module in pkgutil.walk_packages(app.__path__, "app."):
        for _, obj in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if (
                issubclass(obj, StrEnum)
                and obj is not StrEnum
                and obj.__module__.startswith("app.")
            ):
                found.add(obj)
    return found


def test_the_dashboards_copy_is_what_the_server_declares() -> None:
    # Fails when a label, an enum or a kind's rule changed on the server and the dashboard's
    # copy was not regenerated (`python -m app.vocabulary`, run by the frontend build).
    assert vocabulary.DASHBOARD_COPY.read_text(encoding="utf-8") == vocabulary.dashboard_text()
    check = subprocess.run(
        [sys.executable, "-m", "app.vocabulary", "--check"],
        cwd=Path(app.__file__).parent.parent,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_the_check_names_a_stale_copy(tmp_path: Path) -> None:
    stale = tmp_path / "vocabulary.json"
    stale.write_text(vocabulary.dashboard_text().replace("Incendie", "Feu"), encoding="utf-8")
    assert vocabulary.main(["--check", "--out", str(stale)]) == 1
    assert vocabulary.main(["--out", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == vocabulary.dashboard_text()


def test_every_enum_a_person_reads_has_words_in_french_dutch_and_english() -> None:
    assert vocabulary.problems(vocabulary.LABELS) == []
    labelled = set(vocabulary.GROUPS.values())
    assert _enums_of_the_app() - UNLABELLED == labelled
    for group, enum in vocabulary.GROUPS.items():
        for member in enum:
            for language in vocabulary.LANGUAGES:
                assert vocabulary.label(group, member, language), (group, member, language)


def test_a_missing_or_stray_label_is_named() -> None:
    labels = copy.deepcopy(json.loads(vocabulary.SOURCE.read_text(encoding="utf-8")))
    del labels["category"]["utility_outage"]["nl"]
    labels["zone_kind"]["moat"] = {"fr": "Douve", "nl": "Gracht", "en": "Moat"}
    del labels["cap_urgency"]
    assert vocabulary.problems(labels) == [
        "category.utility_outage: no nl words (or stray spaces)",
        "zone_kind.moat: not a value of ZoneKind",
        "cap_urgency: missing",
    ]


def test_the_dashboard_gets_each_kinds_rules_as_its_spec_declares_them() -> None:
    rules = vocabulary.for_dashboard()["entities"]
    assert list(rules) == [spec.entity.value for spec in SPECS]
    for spec in SPECS:
        mine = rules[spec.entity.value]
        assert mine["path"] == spec.path
        for name, table in spec.transitions.items():
            assert {k: set(v) for k, v in mine["transitions"][name].items()} == {
                str(k): {str(x) for x in v} for k, v in table.items()
            }
        assert {k: set(v) for k, v in mine["initial"].items()} == {
            k: {str(x) for x in v} for k, v in spec.initial.items()
        }
        expected = sorted(spec.geometry_types) if spec.geometry_types else None
        assert mine["geometry_types"] == expected
        assert mine["geometry_required"] == spec.geometry_required
        assert set(mine["fields"]) == set(spec.create_schema.model_fields)
    zone = rules["zone"]
    assert zone["geometry_by_kind"]["route"] == ["LineString", "MultiLineString"]
    assert zone["fields"]["kind"] == {"required": True, "enum": "zone_kind"}
    assert rules["incident"]["transitions"]["status"]["reported"] == [
        "confirmed",
        "ongoing",
        "resolved",
        "false_alarm",
    ]
