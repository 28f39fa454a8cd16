"""`sitcen exercise`: the examples and scenario files kept from the command line, a refused
file named by its place as the API names it."""

from __future__ import annotations

from typing import Any

import orjson

from tests.exercises.helpers import timed
from tests.test_cli import sitcen


def test_the_example_is_kept_once_from_the_command_line(settings: Any, sessions: Any) -> None:
    first = sitcen(settings, "exercise", "example", "gas-shortage")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("scenario gas-shortage (11 injects): ")
    again = sitcen(settings, "exercise", "example", "gas-shortage")
    assert again.stdout == first.stdout


def test_a_scenario_file_is_kept_or_refused_naming_the_inject(
    settings: Any, sessions: Any, tmp_path: Any
) -> None:
    data = timed()
    good = tmp_path / "drill.json"
    good.write_bytes(orjson.dumps(data))
    out = sitcen(settings, "exercise", "load", str(good))
    assert out.returncode == 0, out.stderr
    assert f"scenario {data['key']} (4 injects)" in out.stdout
    data["key"] += "-b"
    data["injects"][2]["message"]["to"] = ["pz-5340"]
    bad = tmp_path / "bad.json"
    bad.write_bytes(orjson.dumps(data))
    out = sitcen(settings, "exercise", "load", str(bad))
    assert out.returncode != 0
    assert "injects[2].message.to[0]: 'pz-5340' is not one of the players" in out.stderr
