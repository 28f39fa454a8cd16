"""Who sees a document: whoever sees its subject, if the document is shareable. A document
marked internal reaches no partner by any path, and a document follows its subject when the
subject's sharing changes, through the write path (a new version, a change record)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import Server
from tests.documents import files
from tests.documents.conftest import make_incident, upload
from tests.realtime.conftest import open_feed
from tests.routes import blanked

B_ORG = "pz-5340"


def _paths(doc: str) -> list[str]:
    """Every route that gives something of one document."""
    return [
        f"/api/documents/{doc}",
        f"/api/documents/{doc}/content",
        f"/api/documents/{doc}/content?version=1",
        f"/api/documents/{doc}/preview",
        f"/api/documents/{doc}/history",
        f"/api/features/collections/documents/items/{doc}",
    ]


async def _hidden_from(partner: httpx.AsyncClient, doc: str, at: str) -> list[Any]:
    """What of `doc` reaches `partner`: each answer that differs from an unknown id's."""
    wrong = []
    unknown = str(uuid.uuid4())
    for hidden, other in zip(_paths(doc), _paths(unknown), strict=True):
        rh, ru = await partner.get(hidden), await partner.get(other)
        if rh.status_code != 404 or blanked(rh, doc) != blanked(ru, unknown):
            wrong.append((hidden, rh.status_code, rh.text[:200]))
    rh = await partner.get(f"/api/documents/{doc}", params={"at": at})
    if rh.status_code != 404:
        wrong.append(("?at=", rh.status_code))
    return wrong


async def _listed(partner: httpx.AsyncClient, marker: str, since: int, at: str) -> str:
    """Everything the partner's lists, searches, time travel and feed give, as one text."""
    texts = []
    for path, params in (
        ("/api/documents", {"q": marker}),
        ("/api/documents", {"q": marker, "at": at}),
        ("/api/documents", {}),
        ("/api/features/collections/documents/items", {"q": marker}),
        ("/api/changes", {"since": since, "limit": 5000}),
    ):
        r = await partner.get(path, params=params)
        assert r.status_code == 200, (path, r.text)
        texts.append(r.text)
    return "\n".join(texts)


async def test_an_internal_document_reaches_no_partner_by_any_path_and_a_shareable_one_follows_its_subject(  # noqa: E501
    server: Server, client_for: Any
) -> None:
    op, a, b = client_for("op"), client_for("part"), client_for("part-b")
    since = (await op.get("/api/changes", params={"limit": 1})).json()["head"]
    feeds = {who: await open_feed(server, who, since=since) for who in ("part", "part-b")}
    for feed in feeds.values():
        feed.read_in_background()
    marker = f"casus-{uuid.uuid4().hex[:8]}"

    subject = await make_incident(op, shared_with=[B_ORG])
    shared = (
        await upload(op, subject, files.pdf(), title=f"{marker} partagé", shareable=True)
    ).json()
    internal = (await upload(op, subject, files.png(300, 200), title=f"{marker} interne")).json()
    await op.post(f"/api/documents/{internal['id']}/versions", content=files.pdf())
    assert (shared["properties"]["visibility"], shared["properties"]["shared_with"]) == (
        "internal",
        [B_ORG],
    )
    assert (internal["properties"]["visibility"], internal["properties"]["shared_with"]) == (
        "internal",
        [],
    )
    then = (await op.get(f"/api/documents/{internal['id']}")).json()["properties"]["updated_at"]

    # B sees the shareable document of what is shared with it, by every path…
    for path in _paths(shared["id"]):
        assert (await b.get(path)).status_code == 200, path
    assert (await b.get(f"/api/documents/{shared['id']}", params={"at": then})).status_code == 200
    seen_by_b = await _listed(b, marker, since, then)
    assert shared["id"] in seen_by_b
    # …and nothing of the internal one; A, whose subject it is not, sees neither.
    assert await _hidden_from(b, internal["id"], then) == []
    assert internal["id"] not in seen_by_b
    assert await _hidden_from(a, shared["id"], then) == []
    assert await _hidden_from(a, internal["id"], then) == []
    seen_by_a = await _listed(a, marker, since, then)
    assert shared["id"] not in seen_by_a and internal["id"] not in seen_by_a

    # The subject is no longer shared with B: its document follows, as a change of its own.
    version = (await op.get(f"/api/incidents/{subject['id']}")).json()["properties"]["version"]
    r = await op.patch(
        f"/api/incidents/{subject['id']}",
        json={"type": "Feature", "properties": {"shared_with": []}},
        headers={"If-Match": f'"{version}"'},
    )
    assert r.status_code == 200, r.text
    now = (await op.get(f"/api/documents/{shared['id']}")).json()["properties"]
    assert (now["version"], now["shared_with"], now["updated_by"]) == (2, [], "op")
    history = (await op.get(f"/api/documents/{shared['id']}/history")).json()["changes"]
    assert [c["op"] for c in history] == ["created", "updated"]
    assert (await b.get(f"/api/documents/{shared['id']}/content")).status_code == 404

    # Shared with every partner: the shareable document is seen by A and B, the internal one
    # by no one.
    r = await op.patch(
        f"/api/incidents/{subject['id']}",
        json={"type": "Feature", "properties": {"visibility": "shared"}},
        headers={"If-Match": f'"{version + 1}"'},
    )
    assert r.status_code == 200, r.text
    assert (await a.get(f"/api/documents/{shared['id']}/content")).status_code == 200
    assert (await b.get(f"/api/documents/{shared['id']}")).json()["properties"]["version"] == 3
    later = (await op.get(f"/api/documents/{shared['id']}")).json()["properties"]["updated_at"]
    for partner in (a, b):
        assert await _hidden_from(partner, internal["id"], later) == []
        assert internal["id"] not in await _listed(partner, marker, since, later)

    # Marked internal by SITCEN: gone from the partners at once.
    r = await op.patch(
        f"/api/documents/{shared['id']}",
        json={"type": "Feature", "properties": {"shareable": False}},
        headers={"If-Match": '"3"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["visibility"] == "internal"
    assert (await a.get(f"/api/documents/{shared['id']}/content")).status_code == 404

    # The live feed: B got the shareable document's creation, and neither partner ever got
    # anything of the internal one. A fence shared with all tells when all has arrived.
    fence = await make_incident(op, visibility="shared")
    for feed in feeds.values():
        await feed.wait_for(lambda f: any(c["id"] == fence["id"] for c in f.changes))
    assert any(c["id"] == shared["id"] for c in feeds["part-b"].changes)
    for who, feed in feeds.items():
        assert all(internal["id"] not in str(m) for m in feed.messages), who
        await feed.close()


async def test_a_partner_cannot_upload_nor_add_a_version(client_for: Any) -> None:
    op, b = client_for("op"), client_for("part-b")
    subject = await make_incident(op, visibility="shared")
    doc = (await upload(op, subject, files.pdf(), shareable=True)).json()
    assert (await upload(b, subject, files.pdf())).status_code == 403
    r = await b.post(f"/api/documents/{doc['id']}/versions", content=files.pdf())
    assert r.status_code == 403
    assert (await op.get(f"/api/documents/{doc['id']}")).json()["properties"]["version"] == 1
