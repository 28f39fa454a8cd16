"""Replay (issue 18 §1): the picture at T0 (`?at=`) with the feed's records from T0 to Ti applied
in order is the picture `?at=Ti`, for every instant and every reader; a partner's replay holds
only what it could see then (shared later, unshared meanwhile); the timeline's bookmarks; the
after-action report of a window."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain import timeline
from app.domain.enums import Language
from app.domain.visibility import Scope
from app.errors import ProblemError
from app.reports import replay
from tests.cell.records import open_activation
from tests.samples import feature, point, square

# The kinds a replay is compared on: what the tests below write, and their neighbours.
KINDS = {
    "incident": "incidents",
    "zone": "zones",
    "activation": "activations",
    "decision": "decisions",
}

Picture = dict[str, dict[str, dict[str, Any]]]


async def picture_at(client: httpx.AsyncClient, at: str) -> Picture:
    """Every object of the compared kinds as `?at=` reads it, by kind and id."""
    out: Picture = {}
    for entity, path in KINDS.items():
        out[entity] = {}
        url: str | None = f"/api/{path}"
        params: dict[str, Any] | None = {"at": at, "limit": 1000}
        while url:
            r = await client.get(url, params=params)
            params = None  # a next link carries them
            assert r.status_code == 200, r.text
            page = r.json()
            out[entity].update({f["id"]: f for f in page["features"]})
            nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
            url = nxt[0] if nxt else None
    return out


async def records(client: httpx.AsyncClient, since: int, until: str) -> list[dict[str, Any]]:
    """The feed's records after `since` committed up to `until`, every page."""
    out: list[dict[str, Any]] = []
    while True:
        r = await client.get("/api/changes", params={"since": since, "until": until, "limit": 50})
        assert r.status_code == 200, r.text
        page = r.json()
        out.extend(page["changes"])
        if page["next_since"] == since:
            return out
        since = page["next_since"]


def apply(picture: Picture, changes: Iterable[dict[str, Any]]) -> Picture:
    """What the dashboard's replay does (frontend/src/replay.js): each record in order."""
    out = {entity: dict(objects) for entity, objects in picture.items()}
    for c in changes:
        if c["entity"] not in out:
            continue
        if c["op"] in ("deleted", "removed"):
            out[c["entity"]].pop(c["id"], None)
        else:
            out[c["entity"]][c["id"]] = c["feature"]
    return out


async def position(client: httpx.AsyncClient, at: str) -> int:
    r = await client.get("/api/changes/position", params={"at": at})
    assert r.status_code == 200, r.text
    return int(r.json()["seq"])


async def replay_matches_time_travel(
    client: httpx.AsyncClient, t0: str, instants: list[str]
) -> None:
    start = await picture_at(client, t0)
    seq0 = await position(client, t0)
    for ti in instants:
        replayed = apply(start, await records(client, seq0, ti))
        assert replayed == await picture_at(client, ti), f"replay from {t0} to {ti}"


async def at_of(client: httpx.AsyncClient, path: str, oid: str, version: int) -> str:
    history = (await client.get(f"/api/{path}/{oid}/history")).json()["changes"]
    return str(next(c["at"] for c in history if c["version"] == version))


def between(a: str, b: str) -> str:
    x, y = datetime.fromisoformat(a), datetime.fromisoformat(b)
    return (x + (y - x) / 2).isoformat()


def before(a: str) -> str:
    return (datetime.fromisoformat(a) - timedelta(microseconds=1)).isoformat()


async def patch(client: httpx.AsyncClient, path: str, oid: str, version: int, **props: Any) -> None:
    r = await client.patch(
        f"/api/{path}/{oid}",
        headers={"If-Match": f'"{version}"'},
        json={"type": "Feature", "properties": props},
    )
    assert r.status_code == 200, r.text


async def test_a_replay_gives_at_each_instant_the_picture_time_travel_gives(
    client_for: Any,
) -> None:
    op = client_for("op")
    adm = client_for("adm")
    a = (
        await op.post(
            "/api/incidents",
            json=feature(point(4.35, 50.85), title="Replay A", category="fire", severity="minor"),
        )
    ).json()["id"]
    t0 = await at_of(op, "incidents", a, 1)
    z = (
        await op.post(
            "/api/zones",
            json=feature(square(4.36, 50.84), title="Périmètre replay", kind="security_perimeter"),
        )
    ).json()["id"]
    await patch(op, "incidents", a, 1, severity="severe", status="confirmed")
    b = (
        await op.post(
            "/api/incidents",
            json=feature(point(4.37, 50.86), title="Replay B", category="other", severity="minor"),
        )
    ).json()["id"]
    await patch(op, "zones", z, 1, title="Périmètre replay élargi")
    await patch(op, "incidents", b, 1, title="Replay B bis")
    r = await adm.delete(f"/api/incidents/{a}", headers={"If-Match": '"2"'})
    assert r.status_code == 204, r.text
    activation = await open_activation(op)
    r = await op.post(
        "/api/decisions",
        json=feature(
            None, title="Fermeture", activation_id=activation, basis="D3", decided_by_name="HF"
        ),
    )
    assert r.status_code == 201, r.text

    t_b1 = await at_of(op, "incidents", b, 1)
    t_b2 = await at_of(op, "incidents", b, 2)
    t_end = (await op.get("/api/changes", params={"limit": 1})).json()
    last = await at_of(op, "decisions", r.json()["id"], 1)
    instants = [t0, between(t0, t_b1), t_b1, before(t_b2), t_b2, last]
    await replay_matches_time_travel(op, t0, instants)
    assert t_end["head"] >= await position(op, last)


async def test_a_partners_replay_holds_only_what_it_saw_at_each_instant(client_for: Any) -> None:
    op, part, part_b = client_for("op"), client_for("part"), client_for("part-b")
    body = feature(
        point(4.355, 50.845), title="Partagé plus tard", category="threat", severity="moderate"
    )
    oid = (await op.post("/api/incidents", json=body)).json()["id"]
    internal = await at_of(op, "incidents", oid, 1)
    await patch(op, "incidents", oid, 1, shared_with=["pz-5339"])
    shared = await at_of(op, "incidents", oid, 2)
    await patch(op, "incidents", oid, 2, title="Partagé puis retiré")
    changed = await at_of(op, "incidents", oid, 3)
    await patch(op, "incidents", oid, 3, shared_with=[])
    unshared = await at_of(op, "incidents", oid, 4)
    instants = [internal, shared, changed, before(unshared), unshared]

    seen = []
    for ti in instants:
        pic = await picture_at(part, ti)
        seen.append(pic["incident"].get(oid, {}).get("properties", {}).get("title"))
    assert seen == [None, "Partagé plus tard", "Partagé puis retiré", "Partagé puis retiré", None]
    await replay_matches_time_travel(part, internal, instants)

    # The record that took it out of the partner's sight says only that it is gone.
    feed = await records(part, await position(part, internal), unshared)
    mine = [c for c in feed if c["id"] == oid]
    assert [c["op"] for c in mine] == ["updated", "updated", "removed"]
    assert mine[-1]["feature"] is None and "by" not in mine[-1]

    # The other partner never sees it, at any instant, by any path.
    await replay_matches_time_travel(part_b, internal, instants)
    assert all(c["id"] != oid for c in await records(part_b, 0, unshared))
    for ti in instants:
        assert oid not in (await picture_at(part_b, ti))["incident"]
        assert (await part_b.get(f"/api/incidents/{oid}", params={"at": ti})).status_code == 404


async def test_the_position_at_a_time_is_the_last_record_committed_by_then(client_for: Any) -> None:
    op = client_for("op")
    oid = (
        await op.post(
            "/api/incidents",
            json=feature(point(4.35, 50.85), title="Position", category="other", severity="minor"),
        )
    ).json()["id"]
    history = (await op.get(f"/api/incidents/{oid}/history")).json()["changes"]
    at, seq = history[0]["at"], history[0]["seq"]
    assert await position(op, at) == seq
    assert await position(op, before(at)) < seq
    assert await position(op, "2001-01-01T00:00:00+00:00") == 0
    r = await op.get("/api/changes/position", params={"at": "yesterday"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "at"]
    r = await op.get("/api/changes", params={"until": "soon"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "until"]


async def test_bookmarks_mark_decisions_phase_changes_and_sitreps_in_the_window(
    client_for: Any,
) -> None:
    coord, part = client_for("coord"), client_for("part")
    start = (
        await coord.get(
            "/api/changes/position", params={"at": datetime.now().astimezone().isoformat()}
        )
    ).json()["at"]
    activation = await open_activation(coord)
    r = await coord.post(
        f"/api/activations/{activation}/phase",
        json={"phase": "coordination", "reason": "montée en puissance"},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    r = await coord.post(
        "/api/decisions",
        json=feature(
            None,
            title="Évacuation de la Grand-Place",
            activation_id=activation,
            basis="D1",
            decided_by_name="HF",
        ),
    )
    assert r.status_code == 201, r.text
    decision_at = r.json()["properties"]["created_at"]
    r = await coord.post(
        "/api/sitreps",
        json={"type": "Feature", "geometry": None, "properties": {"activation_id": activation}},
    )
    assert r.status_code == 201, r.text
    sitrep = r.json()["id"]
    end = (datetime.now().astimezone() + timedelta(minutes=1)).isoformat()

    r = await coord.get("/api/timeline/bookmarks", params={"start": start, "end": end})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kinds"] == ["decision", "phase", "sitrep", "threat_level"]
    mine = [
        m
        for m in body["bookmarks"]
        if m["id"] in (activation, sitrep) or m["title"] == "Évacuation de la Grand-Place"
    ]
    kinds = [(m["kind"], m["value"]) for m in mine]
    assert ("phase", "coordination") in kinds and ("decision", None) in kinds
    assert any(k == "sitrep" for k, _ in kinds)
    phase = next(m for m in mine if m["kind"] == "phase" and m["value"] == "coordination")
    assert phase["previous"] == "pre_alert"
    seqs = [m["seq"] for m in body["bookmarks"]]
    assert seqs == sorted(seqs)

    # A window that ends before the decision does not hold it.
    r = await coord.get(
        "/api/timeline/bookmarks", params={"start": start, "end": before(decision_at)}
    )
    assert all(
        m["kind"] != "decision" or m["title"] != "Évacuation de la Grand-Place"
        for m in r.json()["bookmarks"]
    )
    # A partner sees none of these internal records.
    r = await part.get("/api/timeline/bookmarks", params={"start": start, "end": end})
    assert r.status_code == 200
    assert not [m for m in r.json()["bookmarks"] if m["id"] in (activation, sitrep)]
    # A window must run forwards.
    r = await coord.get("/api/timeline/bookmarks", params={"start": end, "end": start})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "end"]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
async def test_the_report_of_a_window_holds_the_picture_the_changes_and_the_bookmarks(
    client_for: Any, language: str
) -> None:
    op, part = client_for("op"), client_for("part")
    start = datetime.now().astimezone().isoformat()
    r = await op.post(
        "/api/incidents",
        json=feature(
            point(4.35, 50.85), title=f"AAR interne {language}", category="fire", severity="minor"
        ),
    )
    oid = r.json()["id"]
    r = await op.post(
        "/api/incidents",
        json=feature(
            point(4.36, 50.85),
            title=f"AAR partagé {language}",
            category="fire",
            severity="minor",
            visibility="shared",
        ),
    )
    end = (datetime.now().astimezone() + timedelta(seconds=30)).isoformat()

    r = await op.get(
        "/api/replay/report",
        params={"start": start, "end": end},
        headers={"Accept-Language": language},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
    words = {
        "fr": "Rejeu de la situation",
        "nl": "Herafspeling van de toestand",
        "en": "Replay of the picture",
    }
    assert words[language] in r.text and f"AAR interne {language}" in r.text
    assert "@media print" in r.text

    r = await op.get(
        "/api/replay/report",
        params={"start": start, "end": end, "format": "pdf"},
        headers={"Accept-Language": language},
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages).replace(
        "\x00", ""
    )
    flat = "".join(text.split())
    assert "".join(f"AAR interne {language}".split()) in flat
    assert "".join(f"AAR partagé {language}".split()) in flat

    # The partner's report holds what was shared with it, not the internal incident.
    r = await part.get("/api/replay/report", params={"start": start, "end": end, "format": "pdf"})
    flat = "".join(
        "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
        .replace("\x00", "")
        .split()
    )
    assert "".join(f"AAR partagé {language}".split()) in flat
    assert "".join(f"AAR interne {language}".split()) not in flat and oid not in flat


async def test_a_window_too_big_for_one_report_is_refused_naming_its_limit(
    client_for: Any, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    op = client_for("op")
    start = datetime.now().astimezone()
    for title in ("Trop 1", "Trop 2"):
        body = feature(point(4.35, 50.85), title=title, category="other", severity="minor")
        assert (await op.post("/api/incidents", json=body)).status_code == 201
    end = datetime.now().astimezone() + timedelta(seconds=30)
    monkeypatch.setattr(replay, "MAX_CHANGES", 1)
    async with sessions() as session:
        with pytest.raises(ProblemError) as refused:
            await replay.build(session, Scope(), start, end, "tests")
    assert refused.value.status == 413 and refused.value.extra["max_rows"] == 1

    # The picture at the start is listed up to its bound, and says it holds more.
    monkeypatch.setattr(replay, "MAX_OBJECTS", 1)
    monkeypatch.setattr(replay, "MAX_CHANGES", 5000)
    async with sessions() as session:
        report = await replay.build(session, Scope(), end - timedelta(seconds=1), end, "tests")
    assert len(report.picture["incident"]) == 1 and "incident" in report.truncated
    assert "les 1 premiers" in replay.html_document(report, Language.fr)

    r = await op.get(
        "/api/replay/report",
        params={"start": "2020-01-01T00:00:00+00:00", "end": "2020-01-01T00:00:00+00:00"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "end"]


async def test_bookmarks_are_read_page_by_page_and_refused_beyond_their_bound(
    client_for: Any, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    coord = client_for("coord")
    start = datetime.now().astimezone()
    activation = await open_activation(coord)
    for title in ("Première décision", "Seconde décision"):
        body = feature(
            None, title=title, activation_id=activation, basis="D5", decided_by_name="HF"
        )
        assert (await coord.post("/api/decisions", json=body)).status_code == 201
    end = datetime.now().astimezone() + timedelta(seconds=30)
    monkeypatch.setattr(timeline, "_PAGE", 1)
    async with sessions() as session:
        marks = await timeline.bookmarks(session, start, end, Scope())
        assert marks is not None
        titles = [m.title for m in marks if m.kind == "decision"]
        assert titles == ["Première décision", "Seconde décision"]
        monkeypatch.setattr(timeline, "MAX_BOOKMARKS", 1)
        assert await timeline.bookmarks(session, start, end, Scope()) is None
