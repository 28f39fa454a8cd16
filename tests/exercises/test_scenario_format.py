"""The scenario file format: what is refused is named by its place in the file, every problem
at once, and nothing is kept."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import orjson
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import ProblemError
from app.exercises import scenario as fmt
from app.exercises.service import EXAMPLES
from tests.exercises.helpers import incident_inject, message_inject, scenario, timed


async def problems_of(
    sessions: async_sessionmaker[AsyncSession], data: Any
) -> list[tuple[str, str]]:
    with pytest.raises(ProblemError) as refused:
        async with sessions() as session:
            await fmt.check(session, fmt.parse(data))
    assert refused.value.status == 422
    return [(e["path"], e["msg"]) for e in refused.value.errors or []]


async def test_a_valid_scenario_is_read_with_its_times_as_h_mm_ss(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        checked = await fmt.check(session, fmt.parse(timed()))
    assert [i.at for i in checked.injects] == ["0:01:00", "0:30:00", "0:31:00", "1:00:00"]
    assert [i.kind for i in checked.injects] == ["create", "update", "message", "call"]
    assert checked.duration_seconds == 3600


async def test_a_time_not_written_as_h_mm_names_the_inject(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    data = timed()
    data["injects"][3]["at"] = "une heure"
    data["injects"][1]["at"] = 90
    found = await problems_of(sessions, data)
    assert [p for p, _ in found] == ["injects[1].at", "injects[3].at"]
    assert all("H:MM" in m for _, m in found)


async def test_an_inject_is_exactly_one_kind(sessions: async_sessionmaker[AsyncSession]) -> None:
    data = timed()
    data["injects"][2]["call"] = data["injects"][3]["call"]
    data["injects"][0] = {"at": "0:00"}
    found = dict(await problems_of(sessions, data))
    assert (
        "exactly one of create, update, message, call (it has message, call)"
        in (found["injects[2]"])
    )
    assert "exactly one" in found["injects[0]"]


async def test_object_properties_are_checked_against_their_kind(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    data = scenario(
        incident_inject("0:00", "a", category="earthquake"),
        incident_inject("0:05", "b", exercise=False),
        {"at": "0:10", "update": {"object": "a", "properties": {"severity": "apocalyptic"}}},
        {"at": "0:10", "create": {"key": "c", "entity": "no_such_kind", "properties": {}}},
    )
    found = dict(await problems_of(sessions, data))
    # The shape first: an unknown kind is named before the kinds' schemas are asked.
    assert list(found) == ["injects[3].create.entity"]
    del data["injects"][3]
    found = dict(await problems_of(sessions, data))
    assert set(found) == {
        "injects[0].create.properties.category",
        "injects[1].create.properties.exercise",
        "injects[2].update.properties.severity",
    }
    assert found["injects[1].create.properties.exercise"] == (
        "set by the exercise run: leave it out"
    )


async def test_keys_name_objects_an_earlier_inject_creates(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    data = scenario(
        {"at": "0:05", "update": {"object": "leak", "properties": {"status": "confirmed"}}},
        incident_inject("0:10", "leak"),
        incident_inject("0:15", "leak"),
        message_inject("0:20", ["pz-5339"], about="nothing"),
        players=["pz-5339"],
    )
    found = dict(await problems_of(sessions, data))
    assert found == {
        "injects[0].update.object": "no earlier inject creates 'leak'",
        "injects[2].create.key": "'leak' is already created by injects[1]",
        "injects[3].message.about": "no earlier inject creates 'nothing'",
    }


async def test_messages_and_sharing_go_to_players_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    data = scenario(
        incident_inject("0:00", "leak", shared_with=["pz-5339", "pz-5340"]),
        message_inject("0:05", ["pz-5340"]),
        players=["pz-5339"],
    )
    found = dict(await problems_of(sessions, data))
    assert found == {
        "injects[0].create.properties.shared_with[1]": "'pz-5340' is not one of the players",
        "injects[1].message.to[0]": "'pz-5340' is not one of the players",
    }


async def test_a_geometry_is_checked_as_every_write_checks_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    data = scenario(incident_inject("0:00", "leak"))
    data["injects"][0]["create"]["geometry"] = {"type": "Point", "coordinates": [50.85, 4.35]}
    (path, msg), *_ = await problems_of(sessions, data)
    assert path.startswith("injects[0].create.geometry")
    assert "[lat, lon]" in msg


def test_yaml_times_are_read_as_written_not_as_base_60_numbers() -> None:
    text = "at: 1:30\nn: 12\nf: 1.5\n"
    assert fmt.read(text.encode(), "application/yaml") == {"at": "1:30", "n": 12, "f": 1.5}
    assert yaml.safe_load(text)["at"] == 90  # what a plain YAML reader would have made of it


def test_a_file_that_is_not_yaml_says_where() -> None:
    with pytest.raises(ProblemError) as refused:
        fmt.read(b"format: x\ninjects: [\n  - at: 0:00\n", "application/yaml")
    assert refused.value.status == 422
    assert "not YAML at line" in refused.value.detail


def test_yaml_aliases_binary_values_and_deep_nesting_are_refused_not_expanded() -> None:
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    for body, words in (
        (bomb, "aliases (*name) are not accepted"),
        (b"at: !!binary aGVsbG8=\n", "not a scenario YAML can hold"),
        (b"on: 2001-02-30\n", "not a scenario YAML can hold"),
        (b"[" * 100_000, "not"),
    ):
        with pytest.raises(ProblemError) as refused:
            fmt.read(body, "application/yaml")
        assert refused.value.status == 422 and words in refused.value.detail


def test_another_media_type_is_refused_with_415() -> None:
    with pytest.raises(ProblemError) as refused:
        fmt.read(b"<scenario/>", "application/xml")
    assert refused.value.status == 415


async def test_the_example_scenario_is_valid_and_speaks_french_and_dutch(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for path in EXAMPLES.glob("*.yaml"):
        async with sessions() as session:
            checked = await fmt.load(session, path.read_bytes(), "application/yaml")
        assert checked.title.fr and checked.title.nl
        for inject in checked.injects:
            texts = [inject.message.headline] if inject.message else []
            texts += [inject.call.note] if inject.call else []
            assert all(t.fr and t.nl and t.fr != t.nl for t in texts)


# ---- through the API ---------------------------------------------------------------------------


async def test_an_upload_in_yaml_is_kept_and_listed(client_for: Any) -> None:
    coord: httpx.AsyncClient = client_for("coord")
    data = timed()
    r = await coord.post(
        "/api/exercise-scenarios",
        content=yaml.safe_dump(data, allow_unicode=True).encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert r.status_code == 201, r.text
    kept = r.json()
    assert (kept["key"], kept["injects"], kept["duration"]) == (data["key"], 4, "1:00:00")
    assert r.headers["Location"] == f"/api/exercise-scenarios/{kept['id']}"
    listed = (await coord.get("/api/exercise-scenarios")).json()
    assert kept["id"] in [s["id"] for s in listed["scenarios"]]
    assert "gas-shortage" in listed["examples"]
    again = await coord.post(
        "/api/exercise-scenarios",
        content=orjson.dumps(data),
        headers={"Content-Type": "application/json"},
    )
    assert again.status_code == 409


async def test_a_refused_upload_names_the_inject_and_field_and_keeps_nothing(
    client_for: Any,
) -> None:
    coord: httpx.AsyncClient = client_for("coord")
    data = copy.deepcopy(timed())
    data["injects"][3]["at"] = "1h"
    data["injects"][0]["create"]["properties"]["severity"] = "huge"
    r = await coord.post(
        "/api/exercise-scenarios",
        content=orjson.dumps(data),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.headers["Content-Type"].startswith("application/problem+json")
    problem = r.json()
    assert [e["path"] for e in problem["errors"]] == ["injects[3].at"]
    assert problem["errors"][0]["loc"] == ["body", "injects", 3, "at"]
    assert problem["detail"].startswith("injects[3].at: ")
    data["injects"][3]["at"] = "1:00"
    r = await coord.post(
        "/api/exercise-scenarios",
        content=orjson.dumps(data),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert [e["path"] for e in r.json()["errors"]] == ["injects[0].create.properties.severity"]
    listed = (await coord.get("/api/exercise-scenarios")).json()
    assert data["key"] not in [s["key"] for s in listed["scenarios"]]
