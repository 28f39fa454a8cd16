"""An import file's rows, read into what the write path takes, each with its own problems.

Reading a file never stops at its first bad row: every row is read, and what is wrong with each
is kept with it (row number and field), so that a dry run can report all of them at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from app.domain.spec import EntitySpec
from app.errors import payload_too_large, validation_problem
from app.exchange.columns import ignored, writable
from app.text import bad_text


@dataclass
class Row:
    """One object of an import file: `number` counts from 1 (the first Feature, or the first
    line after a CSV's header)."""

    number: int
    properties: dict[str, Any] = field(default_factory=dict)
    geometry: dict[str, Any] | None = None
    id: uuid.UUID | None = None  # an export's id: the object to find again
    version: int | None = None  # the version that export was made at
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, message)

    def refuse(self, name: str, msg: str) -> None:
        self.problems.append((name, msg))


def too_many_rows(limit: int) -> Exception:
    return payload_too_large(
        f"the file holds more than {limit} objects (SITCEN_IMPORT_MAX_ROWS): split it",
        max_rows=limit,
    )


def bad_file(msg: str, where: str = "file") -> Exception:
    return validation_problem([{"loc": ["body", where], "msg": msg}])


def take_identity(row: Row, ident: Any, version: Any) -> None:
    """The id and version an exported object carries, if given; checked, not trusted: they
    only find an object again."""
    if ident not in (None, ""):
        try:
            row.id = uuid.UUID(str(ident))
        except ValueError:
            row.refuse("id", "not an object id (a UUID, as an export writes it)")
    if version not in (None, ""):
        if isinstance(version, bool) or not str(version).isdigit():
            row.refuse("version", "a version is a whole number")
        else:
            row.version = int(version)


def take_properties(spec: EntitySpec, row: Row, values: dict[str, Any]) -> None:
    """Keep what the write path takes (values given as null or empty are left out: the
    schema's default, or the object's current value, stands); read past what the server
    derives; refuse what the collection does not know, and text no person types."""
    known, derived = writable(spec), ignored(spec)
    for name, value in values.items():
        if name in known:
            if value is not None:
                row.properties[name] = value
        elif name not in derived:
            row.refuse(name, f"unknown column: {spec.path} have no {name!r}")
    for loc, msg in bad_text(row.properties):
        row.refuse(str(loc[0]) if loc else "properties", msg)


def parse_geojson(spec: EntitySpec, data: bytes, max_rows: int) -> list[Row]:
    """A GeoJSON FeatureCollection's Features as rows. CPU-bound: run it through app.cpu."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise bad_file(f"not JSON: {e}") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise bad_file('expected a GeoJSON FeatureCollection ({"type": "FeatureCollection", …})')
    features = document.get("features")
    if not isinstance(features, list):
        raise bad_file("a FeatureCollection holds a list of features", "features")
    if len(features) > max_rows:
        raise too_many_rows(max_rows)
    rows = []
    for number, feature in enumerate(features, 1):
        row = Row(number)
        rows.append(row)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            row.refuse("type", "not a GeoJSON Feature")
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            row.refuse("properties", "a Feature's properties are an object")
            continue
        entity = properties.get("entity")
        if entity not in (None, spec.entity.value):
            row.refuse("entity", f"this Feature is a {entity}, not a {spec.label}")
        take_identity(row, feature.get("id"), properties.get("version"))
        take_properties(spec, row, {k: v for k, v in properties.items() if k != "version"})
        geometry = feature.get("geometry")
        if geometry is not None and not isinstance(geometry, dict):
            row.refuse("geometry", "geometry must be a GeoJSON geometry object")
        else:
            row.geometry = geometry
    return rows
