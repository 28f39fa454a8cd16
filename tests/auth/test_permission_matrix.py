"""Every route × every role answers as the one permission table says, and no route gives a
partner anything of another partner's.

The matrix is generated from the app's routes: a route whose action the table does not know,
or that declares none and is not listed below, fails the test. The callers include SPOCs of
two partner organisations; partner A then tries every route on what belongs to partner B or to
nobody, and must get exactly the answer an unknown identifier gets.
"""

from __future__ import annotations

import copy
import itertools
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.auth.permissions import PERMISSIONS, all_actions, allowed
from app.auth.roles import Role
from app.domain.registry import BY_PATH
from tests.conftest import TIMEOUT, Identities, Server
from tests.routes import api_routes, blanked
from tests.samples import SAMPLES, linked

# Routes open to anyone, and routes any authenticated caller may use (about themselves).
OPEN = {
    ("GET", "/api/health"),
    ("GET", "/api/ready"),
    ("GET", "/api/config"),
    ("POST", "/api/auth/token"),
}
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
    "part-b": Role.partner,
    "adm": Role.admin,
    "dispatch-a": Role.dispatch,
    "reader-op": Role.operator,
    "reader-adm": Role.admin,
}
READ_ONLY = {"reader-op", "reader-adm"}
# The generic create routes also take a FeatureCollection (bulk create): the same action, asked
# again with an (empty) collection.
BULK_CREATE = {f"/api/{spec.path}" for spec in BY_PATH.values() if "create" not in spec.own_routes}


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
            if method == "POST" and path in BULK_CREATE:
                bulk = client.post(url, json={"type": "FeatureCollection", "features": []})
                if (bulk.status_code == 403) != expected_forbidden or bulk.status_code >= 500:
                    wrong.append((method, path + " (FeatureCollection)", action, bulk.status_code))
    assert wrong == []


def test_security_doc_shows_the_table_in_force() -> None:
    from app.auth.permissions import as_markdown
    from app.settings import PROJECT_ROOT

    assert as_markdown() in (PROJECT_ROOT / "docs" / "security.md").read_text()


# ---- across partners ---------------------------------------------------------------------------

A, B = "part", "part-b"  # SPOCs of these two organisations (tests.conftest.identities)
A_ORG, B_ORG = "pz-5339", "pz-5340"
UNKNOWN_ORG = "t-no-such-partner"
# Valid bodies where a route checks its body before its path: so that the path is what decides.
BODIES = {
    ("POST", "/api/partners/{organisation}/contacts"): {"name": "Intrus", "language": "fr"},
    ("PATCH", "/api/partners/{organisation}/contacts/{contact_id}"): {"rank": 9},
    ("POST", "/api/partners/{organisation}/channels"): {"kind": "email"},
    ("PATCH", "/api/partners/{organisation}/channels/{channel_id}"): {"enabled": False},
    ("PATCH", "/api/subscriptions/{subscription_id}"): {"name": "Intrus"},
    ("POST", "/api/activations/{object_id}/phase"): {"phase": "coordination", "reason": "Intrus"},
    ("POST", "/api/activations/{object_id}/close"): {"went_well": "Intrus"},
    ("POST", "/api/activations/{object_id}/page"): {},
    ("POST", "/api/positions/{object_id}/presence"): {"presence": "present"},
    ("POST", "/api/tasks/{object_id}/status"): {"status": "done"},
    ("PATCH", "/api/directory/{entry_id}"): {"notes": "Intrus"},
    ("PATCH", "/api/directory/{organisation}/schedule"): {"confirm_days": 30},
}
# Writes that take the version edited, as every PATCH does.
VERSIONED = {("POST", "/api/tasks/{object_id}/status")}
# Whom each collection's objects in the world are for: B only, or nobody. The logbook is
# SITCEN's own; a task is shared with its owner organisation and no other.
AUDIENCES: dict[str, list[dict[str, Any]]] = {
    "logbook": [{"shared_with": []}],
    "tasks": [{}, {"owner_organisation": B_ORG}],
}


@dataclass
class World:
    """What belongs to partner B or to nobody, made by SITCEN for partner A to try to reach."""

    marker: str  # in the title of every object, the alert's headline, the SPOC's address
    head: int  # the feed's head before it was made
    started: datetime  # a time before it was made (a replay window's start)
    objects: dict[str, list[str]]  # collection -> ids shared with B only, or with nobody
    owned: dict[str, str]  # path parameter -> B's identifier
    contact: dict[str, Any]
    channel: dict[str, Any]

    def markers(self) -> list[str]:
        """What no answer to A may hold. Not the title marker, which lists echo in their links
        (they are searched with it), but every id it labels."""
        return [*itertools.chain(*self.objects.values()), *self.owned.values()]


def _staff(server: Server, who: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.tokens[who]}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def _created(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.fixture(scope="module")
def world(server: Server) -> Iterator[World]:
    marker = f"secret-{uuid.uuid4().hex[:10]}"
    with _staff(server, "op") as op, _staff(server, "coord") as coord:
        head = op.get("/api/changes", params={"limit": 1}).json()["head"]
        started = datetime.now(UTC) - timedelta(seconds=1)
        objects: dict[str, list[str]] = {}
        cell = _created(op.post("/api/activations", json=SAMPLES["activations"][0]))["id"]
        # B's seat in the cell, which a task of B's needs (an owner holds a position in it).
        seat = copy.deepcopy(linked(SAMPLES["positions"][0], cell))
        seat["properties"].update(title=f"{marker} seat", holder_organisation=B_ORG)
        objects["positions"] = [_created(op.post("/api/positions", json=seat))["id"]]
        for collection, (sample, _) in SAMPLES.items():
            sample = linked(sample, cell)
            default = [{"shared_with": []}, {"shared_with": [B_ORG]}]
            for audience in AUDIENCES.get(collection, default):
                body = copy.deepcopy(sample)
                body["properties"].update(title=f"{marker} {collection}", **audience)
                objects.setdefault(collection, []).append(
                    _created(op.post(f"/api/{collection}", json=body))["id"]
                )
        # The threat level is public national information: every setting is every partner's,
        # so nothing of it is B's only or nobody's (tests/threat/ check partners read it).
        objects["threat_levels"] = []
        # Documents are uploaded, not posted as Features: one on B's incident, shareable (B
        # sees it), one on the same incident marked internal (no partner sees it).
        b_incident = objects["incidents"][-1]
        for shareable in ("true", "false"):
            objects.setdefault("documents", []).append(
                _created(
                    op.post(
                        "/api/documents",
                        params={
                            "subject_entity": "incident",
                            "subject_id": b_incident,
                            "filename": f"{marker}.txt",
                            "title": f"{marker} documents",
                            "shareable": shareable,
                        },
                        content=f"{marker}: rapport de situation\n".encode(),
                    )
                )["id"]
            )
        # Conflicts' records are found, not posted: B's event meets nobody's (the same place
        # and window), and so do the demonstrations and the zones; nobody sees those records.
        objects["conflict_records"] = _recorded_conflicts(op, marker, 3)
        contact = _created(
            coord.post(
                f"/api/partners/{B_ORG}/contacts",
                json={"name": "Permanence B", "language": "nl", "email": f"{marker}@b.test"},
            )
        )
        channel = _created(coord.post(f"/api/partners/{B_ORG}/channels", json={"kind": "email"}))
        entry = _created(
            op.post(
                "/api/directory",
                json={
                    "organisation": B_ORG,
                    "function": f"Officier de garde {marker}",
                    "phone_24_7": "+32 2 501 05 11",
                    "radio_talkgroup": "BXL-PZ5340-1",
                },
            )
        )
        # A subscription that nothing in the other tests matches.
        subscription = _created(
            coord.post(
                "/api/subscriptions",
                json={
                    "organisation": B_ORG,
                    "name": "Zone B",
                    "categories": ["hazmat"],
                    "min_severity": "extreme",
                    "area_kind": "police_zones",
                    "codes": ["5340"],
                },
            )
        )
        alert = _created(
            op.post(
                "/api/alerts",
                json={
                    "severity": "Moderate",
                    "event": "Test",
                    "texts": {"nl": {"headline": f"{marker} voor B"}},
                    "organisations": [B_ORG],
                },
            )
        )
        campaign = _created(
            coord.post("/api/campaigns", json={"name": marker, "organisations": [B_ORG]})
        )
        (recipient,) = alert["recipients"]
        owned = {
            "alert_id": alert["id"],
            "delivery_id": recipient["deliveries"][0]["id"],
            "subscription_id": subscription["id"],
            "contact_id": contact["id"],
            "channel_id": channel["id"],
            "campaign_id": campaign["id"],
            "entry_id": entry["id"],
            "username": B,
        }
        yield World(marker, head, started, objects, owned, contact, channel)
        # Nothing of it may reach the tests that follow: no e-mail to B, no alert to B.
        coord.delete(f"/api/subscriptions/{subscription['id']}")
        coord.delete(f"/api/partners/{B_ORG}/channels/{channel['id']}")
        coord.delete(f"/api/partners/{B_ORG}/contacts/{contact['id']}")
        op.delete(f"/api/directory/{entry['id']}")


def _recorded_conflicts(op: httpx.Client, marker: str, count: int) -> list[str]:
    """The ids of the conflict watcher's records between the world's objects, once it wrote
    them (it follows the feed in the background)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        r = op.get("/api/conflict_records", params={"q": marker, "limit": 100})
        assert r.status_code == 200, r.text
        ids = [f["id"] for f in r.json()["features"]]
        if len(ids) >= count:
            return ids
        assert time.monotonic() < deadline, f"the world's conflicts: {ids}"
        time.sleep(0.05)


def _collection(path: str) -> str:
    parts = path.split("/")  # /api/<c>/{object_id}… or /api/features/collections/<c>/items/…
    return parts[4] if parts[2] == "features" else parts[2]


def _hidden(param: str, path: str, world: World) -> list[tuple[str, str]]:
    """B's (or nobody's) values for a path parameter, each with an unknown value of its kind;
    none for what no partner owns (reference layers, API key names)."""
    if param in ("object_id", "feature_id"):
        return [(i, str(uuid.uuid4())) for i in world.objects[_collection(path)]]
    if param == "zone_id":  # a hotspot fiche's zone (/api/hotspots/{zone_id})
        return [(i, str(uuid.uuid4())) for i in world.objects["zones"]]
    if param == "organisation":
        return [(B_ORG, UNKNOWN_ORG)]
    if param == "username":
        return [(world.owned[param], f"nobody-{uuid.uuid4().hex[:6]}")]
    if param in world.owned:
        return [(world.owned[param], str(uuid.uuid4()))]
    return []


def _probes(path: str, world: World) -> Iterator[tuple[str, str, list[str], list[str]]]:
    """(hidden url, unknown url, hidden values, unknown values): each parameter either A's own
    (A's organisation, or an id of nothing) or one of B's, at least one B's."""
    params = re.findall(r"\{([^}]+)\}", path)
    own = {p: (A_ORG if p == "organisation" else str(uuid.uuid4())) for p in params}
    choices = [[None, *_hidden(p, path, world)] for p in params]
    for combination in itertools.product(*choices):
        if all(c is None for c in combination):
            continue
        hidden, unknown = path, path
        for param, choice in zip(params, combination, strict=True):
            h, u = choice or (own[param], own[param])
            hidden = hidden.replace(f"{{{param}}}", h)
            unknown = unknown.replace(f"{{{param}}}", u)
        picked = [c for c in combination if c is not None]
        yield hidden, unknown, [h for h, _ in picked], [u for _, u in picked]


def _list_queries(path: str, world: World) -> list[dict[str, Any]]:
    if path == "/api/changes":
        base: dict[str, Any] = {"since": world.head, "limit": 5000}
    elif path in ("/api/timeline/bookmarks", "/api/replay/report"):
        end = datetime.now(UTC) + timedelta(minutes=5)
        base = {"start": world.started.isoformat(), "end": end.isoformat()}
    elif path.endswith("/items") or path.removeprefix("/api/") in (*SAMPLES, "documents"):
        base = {"q": world.marker, "limit": 1000}
    else:
        base = {}
    return [base, {**base, "organisation": B_ORG}]


def test_no_route_gives_a_partner_what_belongs_to_another(
    server: Server, settings: Any, world: World
) -> None:
    """Partner A, on every route: B's objects, alerts, deliveries, subscriptions, SPOCs,
    channels, alarm tests, organisation and user answer word for word as unknown ones do (apart
    from the identifier), change nothing, and no list shows any of them."""
    wrong: list[tuple[Any, ...]] = []
    with _staff(server, A) as a:
        for method, path, action in api_routes(settings):
            if action is None:
                continue
            if "{" not in path:
                if method != "GET":
                    continue
                for query in _list_queries(path, world):
                    r = a.get(path, params=query)
                    seen = [m for m in world.markers() if r.is_success and m in r.text]
                    if seen or r.status_code >= 500:
                        wrong.append((method, path, query, r.status_code, seen))
                continue
            body = BODIES.get((method, path), {}) if method in ("POST", "PATCH") else None
            versioned = method == "PATCH" or (method, path) in VERSIONED
            headers = {"If-Match": '"1"'} if versioned else None
            for hidden, unknown, hidden_values, unknown_values in _probes(path, world):
                rh = a.request(method, hidden, json=body, headers=headers)
                ru = a.request(method, unknown, json=body, headers=headers)
                if rh.is_success or blanked(rh, *hidden_values) != blanked(ru, *unknown_values):
                    wrong.append((method, hidden, rh.status_code, rh.text, ru.text))
        refused = a.post(
            "/api/subscriptions",
            json={"organisation": B_ORG, "name": "Intrus", "area_kind": "region"},
        )
        missing = a.post(
            "/api/subscriptions",
            json={"organisation": UNKNOWN_ORG, "name": "Intrus", "area_kind": "region"},
        )
        if blanked(refused, B_ORG) != blanked(missing, UNKNOWN_ORG) or refused.is_success:
            wrong.append(("POST", "/api/subscriptions", refused.text, missing.text))
    assert wrong == []

    with _staff(server, "op") as op:
        b = op.get(f"/api/partners/{B_ORG}").json()
        assert [(c["id"], c["rank"], c["updated_at"]) for c in b["contacts"]] == [
            (world.contact["id"], 0, world.contact["updated_at"])
        ]
        assert [(c["id"], c["enabled"]) for c in b["channels"]] == [(world.channel["id"], True)]
        subs = op.get("/api/subscriptions", params={"organisation": B_ORG}).json()
        assert [s["name"] for s in subs["subscriptions"]] == ["Zone B"]
        entry = op.get(f"/api/directory/{world.owned['entry_id']}").json()
        assert (entry["notes"], entry["updated_at"]) == (None, entry["created_at"])
        schedule = op.get(f"/api/directory/{B_ORG}/schedule").json()
        assert (schedule["confirmed_at"], schedule["own_confirm_days"]) == (None, None)
        (recipient,) = op.get(f"/api/alerts/{world.owned['alert_id']}").json()["recipients"]
        assert recipient["acknowledged_at"] is None
        for collection, ids in world.objects.items():
            for oid in ids:
                r = op.get(f"/api/{collection}/{oid}")
                assert r.status_code == 200 and r.json()["properties"]["version"] == 1
