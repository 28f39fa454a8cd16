"""Every problem type the service can send is documented in docs/problems.md (RFC 9457: a
type's URI should lead to its documentation), and each is built by its one named constructor
in app/errors.py, never by hand."""

from __future__ import annotations

import re

import pytest

from app.errors import PROBLEM_TYPES, ProblemError
from app.settings import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "problems.md"


def documented() -> dict[str, str]:
    """Each `## <type>` section of docs/problems.md, by type."""
    sections = re.split(r"^## ", DOC.read_text(), flags=re.M)[1:]
    return {s.split("\n", 1)[0].strip(): s for s in sections}


def test_every_problem_type_is_documented_with_its_status_and_title() -> None:
    docs = documented()
    assert sorted(docs) == sorted(PROBLEM_TYPES)
    for slug, problem in PROBLEM_TYPES.items():
        if slug != "http-error":
            assert f"**{problem.status} {problem.title}" in docs[slug], slug


def test_no_code_builds_a_problem_by_hand() -> None:
    built = []
    for path in sorted((PROJECT_ROOT / "app").rglob("*.py")):
        if path.name == "errors.py" and path.parent.name == "app":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "ProblemError(" in line:
                built.append(f"{path.relative_to(PROJECT_ROOT)}:{number}")
    assert built == []


def test_a_problem_of_an_unknown_type_cannot_be_made() -> None:
    with pytest.raises(KeyError):
        ProblemError("no-such-problem", "detail")


def test_a_problem_names_its_documented_type() -> None:
    problem = ProblemError("stale-version", "at version 3").body("/api/incidents/x")
    assert problem["type"] == "https://sitcen.safe.brussels/problems/stale-version"
    assert (problem["title"], problem["status"]) == ("Version mismatch", 412)
