"""What repairing a client's polygon costs: GEOS make_valid on outlines built to be costly.

    .venv/bin/python bench/geometry_repair.py [--linework]

For each outline (tests/samples.py: a zig-zag, a star, a folded line, a circle with one twist)
prints its vertices, how often it crosses itself (counted up to the repair bound), the CPU
seconds of make_valid with the "structure" method the API uses, and what the API answers to
`?repair=true` (repaired, or refused as crossing itself too often) with its CPU seconds.
`--linework` also times GEOS's default method, which the API used before: slow (a 200-vertex
star takes about a minute, a 2,000-vertex folded line many), so off by default. These figures
chose MAX_REPAIR_CROSSINGS in app/geo/validation.py. Figures, not pass/fail; compare runs on a
machine of similar speed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from app.errors import ProblemError  # noqa: E402
from app.geo.validation import MAX_REPAIR_CROSSINGS, _crossings, parse_geometry  # noqa: E402
from tests.samples import folded, star, twisted_circle, zigzag  # noqa: E402

OUTLINES: list[tuple[str, Callable[[int], dict[str, Any]], int]] = [
    # The costliest of each kind that the bound still lets through, then beyond it.
    ("zig-zag", zigzag, 1_000),
    ("zig-zag", zigzag, 2_000),
    ("zig-zag", zigzag, 9_990),
    ("star", star, 46),
    ("star", star, 100),
    ("star", star, 200),
    ("folded", folded, 46),
    ("folded", folded, 200),
    ("folded", folded, 2_000),
    ("twisted circle", twisted_circle, 9_990),
]


def cpu(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()  # the process's CPU: the API's thread pool included
    result = work()
    return time.process_time() - start, result


def answer(raw: dict[str, Any]) -> str:
    try:
        parsed = asyncio.run(parse_geometry(raw, repair=True))
    except ProblemError:
        return "refused"
    return f"repaired ({parsed.geometry.geom_type})"


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--linework", action="store_true", help="also time GEOS's default method")
    linework = args.parse_args().linework
    print(f"repair bound: {MAX_REPAIR_CROSSINGS} crossings")
    print(f"{'outline':>16} {'vertices':>8} {'crossings':>10} {'structure s':>11} ", end="")
    print(f"{'linework s':>10} {'API answer':>24} {'API s':>6}")
    for name, make, vertices in OUTLINES:
        raw = make(vertices)
        geom = shape(raw)
        crossings = _crossings(geom, MAX_REPAIR_CROSSINGS)
        shown = f">{MAX_REPAIR_CROSSINGS}" if crossings > MAX_REPAIR_CROSSINGS else str(crossings)
        structure, _ = cpu(lambda: shapely.make_valid(geom, method="structure"))  # noqa: B023
        slow = f"{cpu(lambda: shapely.make_valid(geom))[0]:10.3f}" if linework else f"{'-':>10}"  # noqa: B023
        api, said = cpu(lambda: answer(raw))  # noqa: B023
        print(
            f"{name:>16} {vertices:>8} {shown:>10} {structure:>11.3f} {slow} {said:>24} {api:>6.3f}"
        )


if __name__ == "__main__":
    main()
