"""The national threat level (OCAM/CUTA): set with who, when, why and on what reference, read by
every role, kept whole as its history, read back at any past instant, refused clearly when
wrong, and each setting a record of the change feed."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import Server
from tests.realtime.conftest import open_feed

URL = "/api/threat-level"


def marker() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def setting(level: int | None, **fields: Any) -> dict[str, Any]:
    return {
        "level": level,
        "reason": fields.pop("reason", "Évaluation de la menace après l'attentat"),
        "source_reference": fields.pop("source_reference", f"OCAM/2026/{marker()}"),
        **fields,
    }


async def set_level(client: httpx.AsyncClient, level: int | None, **fields: Any) -> dict[str, Any]:
    r = await client.post(URL, json=setting(level, **fields))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def feed_time(client: httpx.AsyncClient, setting_id: str) -> str:
    """When the setting entered the change feed: the instant `?at=` reads by."""
    (change,) = (await client.get(f"/api/threat_levels/{setting_id}/history")).json()["changes"]
    return str(change["at"])


async def test_a_level_set_is_read_by_every_role_with_who_when_why_and_its_reference(
    client_for: Any,
) -> None:
    reference, reason = f"OCAM/2026/{marker()}", "Menace possible et vraisemblable"
    done = await set_level(client_for("coord"), 3, reason=reason, source_reference=reference)
    general = done["general"]
    assert done["setting"] == general
    assert (general["level"], general["sector"], general["target"]) == (3, None, None)
    assert (general["reason"], general["source_reference"]) == (reason, reference)
    assert general["set_by"] == "coord" and general["set_at"]
    assert general["key"] == "general"
    for who in ("op", "coord", "off", "adm", "part", "part-b", "dispatch-a"):
        r = await client_for(who).get(URL)
        assert r.status_code == 200, (who, r.text)
        assert r.json()["general"] == general, who
    # The record is an object of the picture, public: shared with every partner.
    stored = (await client_for("part").get(f"/api/threat_levels/{general['id']}")).json()
    assert stored["properties"]["visibility"] == "shared"
    assert stored["properties"]["level"] == 3


async def test_sector_and_target_levels_stand_beside_the_general_one_until_lifted(
    client_for: Any,
) -> None:
    op = client_for("op")
    await set_level(op, 3)
    target = f"Synagogue {marker()}"
    sector = await set_level(op, 4, sector="jewish_community", target=f"  {target}  ")
    assert sector["setting"]["target"] == target  # trimmed
    key = sector["setting"]["key"]
    assert key == f"sector:jewish_community/target:{target.casefold()}"
    standing = (await op.get(URL)).json()
    mine = [s for s in standing["specific"] if s["key"] == key]
    assert [(s["level"], s["sector"], s["target"]) for s in mine] == [
        (4, "jewish_community", target)
    ]
    assert standing["general"]["level"] == 3

    # The same target however it is written is the same key: lifting it names it again.
    lifted = await set_level(op, None, sector="jewish_community", target=target.upper())
    assert lifted["setting"]["level"] is None
    assert lifted["previous"]["id"] == sector["setting"]["id"]
    assert key not in [s["key"] for s in (await op.get(URL)).json()["specific"]]
    assert (await op.get(URL)).json()["general"]["level"] == 3


async def test_the_history_keeps_every_setting_newest_first(client_for: Any) -> None:
    off = client_for("off")
    target = f"Ambassade {marker()}"
    made = [await set_level(off, level, target=target) for level in (2, 3)]
    made.append(await set_level(off, None, target=target))
    history = (await off.get(f"{URL}/history", params={"limit": 1000})).json()["settings"]
    mine = [s for s in history if s["target"] == target]
    assert [s["id"] for s in mine] == [m["setting"]["id"] for m in reversed(made)]
    assert [s["level"] for s in mine] == [None, 3, 2]
    assert all(s["set_by"] == "off" for s in mine)
    # Paged with its cursor, nothing is lost or doubled.
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await off.get(f"{URL}/history", params=params)).json()
        pages += page["settings"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [s["id"] for s in pages] == [s["id"] for s in history]
    by_sector = (await off.get(f"{URL}/history", params={"sector": "police"})).json()
    assert all(s["sector"] == "police" for s in by_sector["settings"])


async def test_at_a_past_instant_the_level_is_what_stood_then(client_for: Any) -> None:
    coord = client_for("coord")
    target = f"Institution {marker()}"
    first = await set_level(coord, 2)
    specific = await set_level(coord, 3, sector="eu_institutions", target=target)
    second = await set_level(coord, 4)
    lifted = await set_level(coord, None, sector="eu_institutions", target=target)
    times = [await feed_time(coord, x["setting"]["id"]) for x in (first, specific, second, lifted)]

    def at(i: int) -> dict[str, Any]:
        return {"at": times[i]}

    async def read(i: int) -> dict[str, Any]:
        r = await client_for("part").get(URL, params=at(i))
        assert r.status_code == 200, r.text
        return dict(r.json())

    then = await read(0)
    assert then["general"]["id"] == first["setting"]["id"]
    assert target not in [s["target"] for s in then["specific"]]
    then = await read(1)
    assert then["general"]["level"] == 2
    assert [s["level"] for s in then["specific"] if s["target"] == target] == [3]
    then = await read(2)
    assert then["general"]["id"] == second["setting"]["id"]
    assert [s["level"] for s in then["specific"] if s["target"] == target] == [3]
    then = await read(3)
    assert then["general"]["level"] == 4
    assert target not in [s["target"] for s in then["specific"]]
    assert then["at"] is not None
    # Now, the same as the last instant.
    now = (await coord.get(URL)).json()
    assert now["general"] == then["general"] and now["at"] is None


async def test_a_wrong_setting_is_refused_naming_the_field_and_records_nothing(
    client_for: Any,
) -> None:
    coord = client_for("coord")
    before = (await coord.get(f"{URL}/history", params={"limit": 1})).json()["settings"]
    target = f"Nulle part {marker()}"
    wrong: list[tuple[dict[str, Any], str]] = [
        (setting(5), "level"),
        (setting(0), "level"),
        ({**setting(3), "level": "3"}, "level"),
        ({**setting(3), "level": True}, "level"),
        ({**setting(3), "level": 2.5}, "level"),
        ({k: v for k, v in setting(3).items() if k != "level"}, "level"),
        (setting(None), "level"),  # the general level is never lifted
        (setting(None, target=target), "level"),  # nothing of its own stands there
        (setting(3, sector="aliens"), "sector"),
        (setting(3, reason="   "), "reason"),
        ({k: v for k, v in setting(3).items() if k != "reason"}, "reason"),
        ({k: v for k, v in setting(3).items() if k != "source_reference"}, "source_reference"),
        (setting(3, source_reference="x" * 201), "source_reference"),
        (setting(3, target="y" * 201), "target"),
        ({**setting(3), "colour": "red"}, "colour"),
    ]
    for body, field in wrong:
        r = await coord.post(URL, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        named = [e["loc"] for e in r.json()["errors"]]
        assert ["body", field] in named, (body, r.json())
    r = await coord.get(URL, params={"at": "yesterday"})
    assert r.status_code in (400, 422) and "at" in r.text
    after = (await coord.get(f"{URL}/history", params={"limit": 1})).json()["settings"]
    assert after == before


async def test_only_sitcen_staff_and_administrators_set_it(client_for: Any) -> None:
    for who in ("part", "part-b", "dispatch-a", "reader-op"):
        r = await client_for(who).post(URL, json=setting(1))
        assert r.status_code == 403, (who, r.text)
    for who in ("op", "coord", "off", "adm"):
        done = await set_level(client_for(who), 3, reason=f"Confirmé par {who}")
        assert done["setting"]["set_by"] == who


async def test_each_setting_is_a_change_of_the_feed_pushed_live_to_partners(
    server: Server, client_for: Any
) -> None:
    coord = client_for("coord")
    head = (await coord.get("/api/changes", params={"limit": 1})).json()["head"]
    feed = await open_feed(server, "part-b")
    feed.read_in_background()
    try:
        done = await set_level(coord, 3, sector="police", reason=f"Menace {marker()}")
        setting_id = done["setting"]["id"]
        await feed.wait_for(lambda f: any(c["id"] == setting_id for c in f.changes))
        (pushed,) = [c for c in feed.changes if c["id"] == setting_id]
        assert (pushed["entity"], pushed["op"], pushed["by"]) == (
            "threat_level",
            "created",
            "coord",
        )
        assert pushed["feature"]["properties"]["level"] == 3
        assert pushed["feature"]["properties"]["sector"] == "police"
    finally:
        await feed.close()
    page = (await client_for("part").get("/api/changes", params={"since": head})).json()
    mine = [c for c in page["changes"] if c["id"] == setting_id]
    assert [(c["entity"], c["op"]) for c in mine] == [("threat_level", "created")]
