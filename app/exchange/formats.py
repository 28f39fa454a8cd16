"""The file formats lists are exported in and imported from."""

from __future__ import annotations

from typing import Literal, get_args

Format = Literal["geojson", "csv", "kml"]
FORMATS: tuple[Format, ...] = get_args(Format)
# KML is for looking at (Google Earth, QGIS), not a source of objects: it is not imported.
IMPORTED: tuple[Format, ...] = ("geojson", "csv")
