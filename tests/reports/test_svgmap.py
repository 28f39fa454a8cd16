"""The server's SVG maps (app.reports.svgmap): geometries projected to Lambert 72 and written
as paths in the drawing's pixels, north up; merged per style for print; every text escaped."""

from __future__ import annotations

import re

from shapely.geometry import box

from app.reports import svgmap

BOURSE = {"type": "Point", "coordinates": [4.3499, 50.8481]}


def test_a_point_and_a_polygon_are_drawn_north_up_in_the_frame() -> None:
    square = box(148000, 169000, 152000, 173000)  # Lambert 72 metres, 4 km across
    north = svgmap.project({"type": "Point", "coordinates": [4.3499, 50.88]})
    south = svgmap.project({"type": "Point", "coordinates": [4.3499, 50.82]})
    dot = svgmap.Style(fill="#d9480f", radius=3)
    layers = [
        svgmap.Layer(
            "area", [svgmap.Shape(square, svgmap.Style(fill="#ffffff"), label="Zone A&B")]
        ),
        svgmap.Layer(
            "incident",
            [svgmap.Shape(north, dot, title="INC-N"), svgmap.Shape(south, dot, title="INC-S")],
        ),
    ]
    drawn = svgmap.draw(layers, width=400, extent=(145000, 165000, 155000, 175000), margin=0)
    assert drawn.startswith('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"')
    # The square: 4 km of 10 km across, from 3 km (west) and 2 km (below the top).
    assert "M280.0,240.0L280.0,80.0 120.0,80.0 120.0,240.0Z" in drawn
    assert "Zone A&amp;B" in drawn and "<title>INC-N</title>" in drawn
    ys = [float(y) for y in re.findall(r"M[\d.]+,([\d.]+)a3", drawn)]
    assert len(ys) == 2 and ys[0] < ys[1]  # the northern point is higher on the page


def test_print_merges_the_shapes_of_one_style_into_one_path() -> None:
    dot = svgmap.Style(fill="#a50026", radius=4)
    shapes = [
        svgmap.Shape(
            svgmap.project({"type": "Point", "coordinates": [4.30 + i / 1000, 50.85]}), dot
        )
        for i in range(100)
    ]
    layers = [svgmap.Layer("incidents", shapes)]
    each = svgmap.draw(layers)
    merged = svgmap.draw(layers, merge=True)
    assert each.count("<path") == 100 and merged.count("<path") == 1
    assert merged.count("a4,4 0 1,0 8,0") == 100


def test_nothing_to_draw_still_gives_a_drawing() -> None:
    drawn = svgmap.draw([svgmap.Layer("empty")])
    assert drawn.startswith("<svg") and drawn.endswith("</svg>")
    assert "<path" not in drawn
