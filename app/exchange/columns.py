"""What a collection's export holds, column by column, and which of those an import writes.

The CSV export and the CSV import share this layout, so that a file exported, edited in a
spreadsheet and imported again needs no mapping: the columns an import cannot set (the id,
reference, version, areas, who and when) are read only to find the object again, or left
aside."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from app.domain.features import COMMON_AFTER, COMMON_BEFORE
from app.domain.spec import EntitySpec

# The areas an object lies in, as codes and as names (French / Dutch), derived from its geometry.
AREAS = ("municipality", "municipality_name", "police_zone", "police_zone_name")
# The geometry: WKT (WGS 84 lon/lat), and a point's coordinates again, for a spreadsheet.
GEOMETRY = ("geometry", "lon", "lat")
# What finds an existing object again: its id, and the version the file was exported at.
IDENTITY = ("id", "version")


def csv_columns(spec: EntitySpec) -> tuple[str, ...]:
    """A collection's CSV columns, in order: the Feature's properties as the API gives them,
    with the areas flattened, then the geometry."""
    return ("id", *COMMON_BEFORE, *spec.fields, *AREAS, *COMMON_AFTER, *GEOMETRY)


def writable(spec: EntitySpec) -> frozenset[str]:
    """The properties an import gives the write path: the create schema's fields."""
    return frozenset(spec.create_schema.model_fields)


def ignored(spec: EntitySpec) -> frozenset[str]:
    """Columns (and GeoJSON properties) an export writes and an import reads past: what the
    server derives or keeps. Anything neither writable nor here is an unknown column."""
    derived = {"entity", "municipalities", "police_zones", *csv_columns(spec)}
    return frozenset(derived - writable(spec) - set(GEOMETRY) - set(IDENTITY))


def _is_structured(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_structured(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_is_structured(a) for a in typing.get_args(annotation))
    if origin in (list, dict, tuple, set, frozenset) or annotation in (list, dict):
        return True
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def structured(spec: EntitySpec) -> frozenset[str]:
    """The writable fields whose values are lists or objects: a CSV cell holds them as JSON."""
    return frozenset(
        name
        for name, info in spec.create_schema.model_fields.items()
        if _is_structured(info.annotation)
    )
