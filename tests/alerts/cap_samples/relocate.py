"""How the published CAP samples here were moved into Brussels (README.md): every <polygon> and
<circle> of a message goes through one similarity transform (scale and shift, the same for
latitude and longitude), so that the shapes keep their form and their places relative to each
other and the whole fits in `span` degrees around the given point; an area with no shape gets
a circle of radius 0 there. A signature over the published message cannot hold for the moved
one, so <Signature> elements go. Nothing else is touched.

    python relocate.py PUBLISHED.xml MOVED.xml LON LAT [SPAN]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SHAPE = re.compile(r"<(polygon|circle)>([^<]*)</\1>")
SIGNATURE = re.compile(r"\n?[ \t]*<(?:\w+:)?Signature\b.*?</(?:\w+:)?Signature>", re.DOTALL)


def points(text: str) -> list[tuple[float, float]]:
    return [(float(p.split(",")[0]), float(p.split(",")[1])) for p in text.split() if "," in p]


def relocate(xml: str, lon: float, lat: float, span: float) -> str:
    found = [pt for _, body in SHAPE.findall(xml) for pt in points(body)]
    if found:
        lats, lons = [p[0] for p in found], [p[1] for p in found]
        centre = ((min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2)
        extent = max(max(lats) - min(lats), max(lons) - min(lons))
        scale = span / extent if extent else 1.0

        def move(token: str) -> str:
            if "," not in token:
                return token  # a circle's radius
            y, x = (float(v) for v in token.split(","))
            return f"{lat + (y - centre[0]) * scale:.5f},{lon + (x - centre[1]) * scale:.5f}"

        xml = SHAPE.sub(
            lambda m: f"<{m[1]}>{' '.join(move(t) for t in m[2].split())}</{m[1]}>", xml
        )
    else:
        xml = re.sub(
            r"(<areaDesc>[^<]*</areaDesc>)(\s*)",
            lambda m: f"{m[1]}{m[2]}<circle>{lat:.5f},{lon:.5f} 0</circle>{m[2]}",
            xml,
        )
    # The closing tag goes back on a line of its own.
    return SIGNATURE.sub(lambda m: "" if xml[m.end() :].startswith("\n") else "\n", xml)


if __name__ == "__main__":
    source, target, lon_s, lat_s, *rest = sys.argv[1:]
    text = Path(source).read_text(encoding="utf-8")
    moved = relocate(text, float(lon_s), float(lat_s), float(rest[0]) if rest else 0.012)
    Path(target).write_text(moved, encoding="utf-8")
