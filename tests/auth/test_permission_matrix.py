"""Every route × every role answers as the one permission table says.

The matrix is generated from the app's routes: a route whose action the table does not know,
or that declares none and is not listed below, fails the test.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from app.auth.permissions import PERMISSIONS, all_actions, allowed
from app.domain.enums import Role
from tests.conftest import Identities, Server
from tests.routes import api_routes

# Routes open to anyone, and routes any authenticated caller may use (about themselves).
OPEN = {("GET", "/api/health"), ("GET", "/api/config"), ("POST", "/api/auth/token")}
SELF = {
    ("GET", "/api/auth/me"),
    ("PATCH", "/api/auth/me"),
    ("GET", "/api/auth/permissions"),
    ("POST", "/api/auth/logout"),
}
CALLERS = {
    "op": Role.operator,
    "coord": Role.coordinator,
    "off": Role.official,
    "part": Role.partner,
    "adm": Role.admin,
    "dispatch-a": Role.dispatch,
    "reader-op": Role.operator,
    "reader-adm": Role.admin,
}
READ_ONLY = {"reader-op", "reader-adm"}


def test_every_route_declares_an_action_the_table_knows(settings: Any) -> None:
    missing = [
        (m, p) for m, p, a in api_routes(settings) if a is None and (m, p) not in OPEN | SELF
    ]
    assert missing == [], "routes without an entry in the permission table"
    known = all_actions()
    unknown = [(m, p, a) for m, p, a in api_routes(settings) if a is not None and a not in known]
    assert unknown == [], "actions no role has: typo or missing table entry"


def test_every_role_has_an_entry() -> None:
    assert set(PERMISSIONS) == set(Role)


def _headers(server: Server, identities: Identities, who: str) -> dict[str, str]:
    if who in identities.keys:
        return {"X-API-Key": identities.keys[who]}
    return {"Authorization": f"Bearer {server.tokens[who]}"}


@pytest.mark.parametrize("who", list(CALLERS))
def test_route_by_role_matrix(
    server: Server, identities: Identities, settings: Any, who: str
) -> None:
    role = CALLERS[who]
    wrong = []
    with httpx.Client(
        base_url=server.url, headers=_headers(server, identities, who), timeout=30
    ) as client:
        for method, path, action in api_routes(settings):
            if action is None:
                continue
            url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
            # Minimal requests: allowed ones fail later (404, 422) and change nothing.
            r = client.request(
                method,
                url,
                json={} if method in ("POST", "PATCH") else None,
                headers={"If-Match": '"1"'} if method == "PATCH" else None,
            )
            # A read-only key keeps its role's reads and loses everything else.
            expected_forbidden = not allowed(role, action) or (
                who in READ_ONLY and not action.endswith(":read")
            )
            if (r.status_code == 403) != expected_forbidden:
                wrong.append((method, path, action, r.status_code))
            if r.status_code >= 500:
                wrong.append((method, path, action, r.status_code))
    assert wrong == []


def test_security_doc_shows_the_table_in_force() -> None:
    from app.auth.permissions import as_markdown
    from app.settings import PROJECT_ROOT

    assert as_markdown() in (PROJECT_ROOT / "docs" / "security.md").read_text()
