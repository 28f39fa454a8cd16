"""A SITREP's PDF for an activation with 500 objects and 200 changes: time and peak memory of
the whole print (the map drawn from the reference layers and the objects, the HTML, WeasyPrint),
beside the floor: the same HTML without the map, printed by WeasyPrint, in the same run.

    .venv/bin/python bench/sitrep.py
    .venv/bin/python bench/sitrep.py --objects 500 --changes 200 --rounds 3 \
        --reference ../shared/data/brussels

Each side runs in its own child process, so that each peak RSS is its own (WeasyPrint's and
Pango's memory is C memory, which tracemalloc would not see). The picture is built in memory
(what app.reports.sitrep.picture stores: objects as they stood, changes from the feed), so the
figures are the printing's; generating the picture is a few SQL queries on indexed tables.
A third side is the library's floor: WeasyPrint printing one unstyled table of as many rows.
Prints seconds and peak RSS for each side, the best of the rounds, and the ratios. Figures, not
pass/fail: the machine's other work moves them.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

DEFAULT_REFERENCE = PROJECT_ROOT.parent / "shared" / "data" / "brussels"
# Brussels-Capital, inside the ring: where the objects are scattered.
WEST, SOUTH, EAST, NORTH = 4.30, 50.80, 4.42, 50.89
SEVERITIES = ("minor", "moderate", "severe", "extreme")
ZONE_KINDS = ("security_perimeter", "red_zone", "drone_ban", "traffic_restriction", "hotspot")


def _point(rng: random.Random) -> dict[str, Any]:
    return {
        "type": "Point",
        "coordinates": [rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)],
    }


def _square(rng: random.Random) -> dict[str, Any]:
    lon, lat, d = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH), rng.uniform(0.001, 0.006)
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def picture(objects: int, changes: int, seed: int = 17) -> dict[str, Any]:
    """A SITREP's stored picture: `objects` objects of every kind shown, `changes` changes."""
    rng = random.Random(seed)
    at = datetime(2026, 9, 27, 16, 0, tzinfo=UTC)
    towns = [
        ("21004", "Bruxelles", "Brussel"),
        ("21009", "Ixelles", "Elsene"),
        ("21015", "Schaerbeek", "Schaarbeek"),
    ]

    def common(entity: str, n: int, prefix: str) -> dict[str, Any]:
        code, fr, nl = rng.choice(towns)
        return {
            "id": f"{entity}-{n}",
            "entity": entity,
            "ref": f"{prefix}-2026-{n:06d}",
            "title": f"{entity.replace('_', ' ').capitalize()} {n} — rue de la Loi",
            "visibility": "internal",
            "shared_with": [],
            "created_by": "op",
            "municipality": {"code": code, "name_fr": fr, "name_nl": nl},
        }

    counts = {
        "incidents": objects * 6 // 10,
        "zones": objects * 2 // 10,
        "events": objects // 10,
        "demonstrations": objects // 20,
        "decisions": objects // 40,
    }
    counts["tasks"] = objects - sum(counts.values())
    content: dict[str, Any] = {
        "at": at.isoformat(),
        "since": (at - timedelta(hours=6)).isoformat(),
        "activation": {
            **common("activation", 1, "GCC"),
            "level": "crisis_cell",
            "coordinator": "high_official",
            "status": "open",
            "phase": None,
            "opened_at": (at - timedelta(days=1)).isoformat(),
            "closed_at": None,
        },
        "truncated": [],
    }
    window = {
        "starts_at": (at - timedelta(hours=2)).isoformat(),
        "ends_at": (at + timedelta(hours=4)).isoformat(),
    }
    content["incidents"] = [
        {
            **common("incident", n, "INC"),
            "category": "public_order",
            "severity": rng.choice(SEVERITIES),
            "status": "ongoing",
            "place": None,
            "occurred_at": None,
            "reported_at": at.isoformat(),
            "geometry": _point(rng),
        }
        for n in range(counts["incidents"])
    ]
    content["zones"] = [
        {
            **common("zone", n, "ZON"),
            "kind": rng.choice(ZONE_KINDS),
            "status": "active",
            "valid_from": window["starts_at"],
            "valid_to": window["ends_at"],
            "geometry": _square(rng),
        }
        for n in range(counts["zones"])
    ]
    content["events"] = [
        {
            **common("planned_event", n, "EVT"),
            "kind": "mass_event",
            "status": "ongoing",
            **window,
            "venue": "Place Royale",
            "expected_attendance": 20000,
            "geometry": _point(rng),
        }
        for n in range(counts["events"])
    ]
    content["demonstrations"] = [
        {
            **common("demonstration", n, "DEM"),
            "status": "planned",
            "authorisation": "authorised",
            **window,
            "organiser": "Collectif",
            "expected_participants": 500,
            "geometry": _point(rng),
        }
        for n in range(counts["demonstrations"])
    ]
    content["decisions"] = [
        {
            **common("decision", n, "DEC"),
            "decided_at": at.isoformat(),
            "decided_by_name": "Haut fonctionnaire",
            "basis": "Avis D3",
            "discipline": "d3",
            "corrects_id": None,
            "geometry": None,
        }
        for n in range(counts["decisions"])
    ]
    content["tasks"] = [
        {
            **common("task", n, "TSK"),
            "status": "open",
            "priority": "normal",
            "due_at": (at - timedelta(minutes=n)).isoformat(),
            "owner_organisation": "pz-5339",
            "owner_user": None,
        }
        for n in range(counts["tasks"])
    ]
    content["changes"] = [
        {
            "seq": 1000 + n,
            "entity": "incident",
            "op": "updated",
            "id": f"incident-{n}",
            "at": (at - timedelta(minutes=n)).isoformat(),
            "by": "op",
            "version": 2,
            "ref": f"INC-2026-{n:06d}",
            "title": f"Incident {n}",
            "status": "ongoing",
            "severity": "severe",
            "visibility": "internal",
            "shared_with": [],
            "created_by": "op",
        }
        for n in range(changes)
    ]
    content["changes_total"] = changes
    return content


def reference_layers(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """The municipalities and police zones as app.reports.sitrep_print.reference reads them
    (GeoJSON in Lambert 72), from the files the app loads into PostGIS."""
    from shapely.geometry import shape

    from app.geo.crs import LAMBERT72, WGS84, to_geojson, transform

    layers: dict[str, list[dict[str, Any]]] = {}
    for layer, name in (("municipality", "municipalities"), ("police_zone", "police_zones")):
        doc = json.loads((folder / f"{name}.geojson").read_text())
        layers[layer] = [
            {
                "type": "Feature",
                "geometry": to_geojson(transform(shape(f["geometry"]), WGS84, LAMBERT72)),
                "properties": {
                    "name_fr": f["properties"].get("name_fr", ""),
                    "name_nl": f["properties"].get("name_nl", ""),
                },
            }
            for f in doc["features"]
        ]
    return layers


def _side(side: str, objects: int, changes: int, reference: str, out: Any) -> None:
    """One print in this (child) process: its seconds, its pages, and the process's peak RSS
    before and after."""
    from app.domain.enums import Language
    from app.domain.visibility import Scope
    from app.reports import sitrep, sitrep_print

    feature = {
        "type": "Feature",
        "id": "bench",
        "geometry": None,
        "properties": {
            "entity": "sitrep",
            "ref": "SIT-2026-000001",
            "title": "SITREP n° 1 — GCC-2026-000001",
            "version": 2,
            "number": 1,
            "status": "approved",
            "approved_by": "off",
            "approved_at": "2026-09-27T14:05:00+00:00",
            "activation_id": "activation-1",
            "picture_at": "2026-09-27T14:00:00+00:00",
            "since_at": "2026-09-27T08:00:00+00:00",
            "summary": "Situation sous contrôle.",
            "next_steps": "Point à 18h.",
            "language": "fr",
            "exercise": False,
            "visibility": "internal",
            "shared_with": [],
        },
    }
    view = sitrep.cut(feature, picture(objects, changes), Scope(), None)
    layers = reference_layers(Path(reference))
    import weasyprint  # loaded before the baseline: every side pays it alike

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if side == "full":
        pdf = sitrep_print.pdf_document(view, Language.fr, layers)
    elif side == "floor":
        pdf = sitrep_print.pdf_document(view, Language.fr, None)
    elif side == "bare":
        # The least WeasyPrint can do with as many rows: one unstyled table, nothing else.
        rows = "".join(
            f"<tr><td>{i['ref']}</td><td>{i['title']}</td></tr>"
            for key in ("incidents", "zones", "events", "demonstrations", "decisions", "tasks")
            for i in view.content[key]
        ) + "".join(
            f"<tr><td>{c['ref']}</td><td>{c['title']}</td></tr>" for c in view.content["changes"]
        )
        pdf = weasyprint.HTML(string=f"<table>{rows}</table>").write_pdf()
    else:  # "map": the SVG alone, as the PDF draws it
        pdf = sitrep_print.draw_map(view, layers, "fr", merge=True).encode()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.send({"seconds": seconds, "bytes": len(pdf), "rss_before": before, "rss_peak": after})


def run(side: str, args: argparse.Namespace) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe()
    child = ctx.Process(
        target=_side, args=(side, args.objects, args.changes, str(args.reference), theirs)
    )
    child.start()
    result: dict[str, float] = mine.recv()
    child.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    args = parser.parse_args()
    print(f"SITREP of {args.objects} objects and {args.changes} changes, {args.rounds} round(s)")
    best: dict[str, dict[str, float]] = {}
    for n in range(args.rounds):
        for side in ("bare", "floor", "full", "map"):
            r = run(side, args)
            growth = (r["rss_peak"] - r["rss_before"]) / 1024
            print(
                f"  round {n + 1} {side:5}: {r['seconds']:.2f} s, {r['bytes'] / 1024:.0f} KiB, "
                f"peak RSS {r['rss_peak'] / 1024:.0f} MiB (+{growth:.0f} MiB over the baseline)"
            )
            if side not in best or r["seconds"] < best[side]["seconds"]:
                best[side] = r
    full, floor, svg, bare = best["full"], best["floor"], best["map"], best["bare"]
    print(
        f"PDF with the map {full['seconds']:.2f} s, peak RSS {full['rss_peak'] / 1024:.0f} MiB; "
        f"the same HTML without the map {floor['seconds']:.2f} s, peak RSS "
        f"{floor['rss_peak'] / 1024:.0f} MiB; ratio {full['seconds'] / floor['seconds']:.2f}x in "
        f"time, {full['rss_peak'] / floor['rss_peak']:.2f}x in peak RSS "
        f"(the map alone, as SVG: {svg['seconds']:.3f} s, {svg['bytes'] / 1024:.0f} KiB)"
    )
    print(
        f"bare WeasyPrint, one unstyled table of as many rows: {bare['seconds']:.2f} s, peak RSS "
        f"{bare['rss_peak'] / 1024:.0f} MiB; the SITREP PDF takes "
        f"{full['seconds'] / bare['seconds']:.2f}x its time"
    )


if __name__ == "__main__":
    main()
