"""CSV both ways: a chunk of Features as CSV lines, and a CSV import file as rows.

Every cell written goes through `app.text.csv_cell` (a cell starting with =, +, -, @ is made
text with a leading apostrophe); reading, that apostrophe is taken off again, so that an
exported file imports as the objects it came from. Lists and objects (shared_with, members…)
are JSON in their cell; the geometry is WKT in WGS 84, and a point's lon/lat have their own
columns."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from typing import Any

import orjson
import shapely

from app.domain.spec import EntitySpec
from app.exchange.columns import GEOMETRY, IDENTITY, csv_columns, structured
from app.exchange.rows import Row, bad_file, take_identity, take_properties, too_many_rows
from app.text import csv_cell, csv_value

POINT = 0  # shapely's type id of a Point
# Excel writes a byte-order mark; spreadsheets read UTF-8 right only with one.
BOM = "\ufeff"


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return csv_cell(orjson.dumps(value).decode())
    return csv_cell(value)


def _area(item: dict[str, Any] | None) -> tuple[str | None, str | None]:
    if not item:
        return None, None
    fr, nl = item.get("name_fr"), item.get("name_nl")
    return item.get("code"), (f"{fr} / {nl}" if fr and nl and fr != nl else fr or nl)


def _geojson_text(geometry: str | dict[str, Any] | None) -> str | bytes | None:
    """A geometry as GeoJSON text: as PostGIS wrote it (an export), or a GeoJSON object."""
    if geometry is None or isinstance(geometry, str):
        return geometry
    return orjson.dumps(geometry)


def header(spec: EntitySpec) -> bytes:
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer, lineterminator="\r\n").writerow(csv_columns(spec))
    return buffer.getvalue().encode()


def encode(spec: EntitySpec, features: list[dict[str, Any]]) -> bytes:
    """A chunk of Features as CSV lines (no header). CPU-bound: run it through app.cpu."""
    columns = csv_columns(spec)
    geometries = shapely.from_geojson([_geojson_text(f["geometry"]) for f in features])
    # -1: every digit the database gave, so that an export imports back to the same geometry.
    wkts = shapely.to_wkt(geometries, rounding_precision=-1)
    points = shapely.get_type_id(geometries) == POINT
    xs, ys = shapely.get_x(geometries).tolist(), shapely.get_y(geometries).tolist()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for i, (feature, wkt) in enumerate(zip(features, wkts, strict=True)):
        props = feature["properties"]
        municipality, municipality_name = _area(props.get("municipality"))
        zone, zone_name = _area(props.get("police_zone"))
        point = bool(points[i])
        values = {
            **props,
            "id": feature["id"],
            "municipality": municipality,
            "municipality_name": municipality_name,
            "police_zone": zone,
            "police_zone_name": zone_name,
            "geometry": wkt,
            "lon": xs[i] if point else None,
            "lat": ys[i] if point else None,
        }
        writer.writerow([_cell(values.get(c)) for c in columns])
    return buffer.getvalue().encode()


def _records(text: str) -> Iterator[tuple[list[str] | None, str | None]]:
    """Each CSV record, or the error that made it unreadable."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield None, f"not readable as CSV: {e}"
            continue
        yield record, None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _geometry(row: Row, wkt: str, lon: str, lat: str) -> None:
    point: tuple[float, float] | None = None
    if lon or lat:
        x, y = _number(lon), _number(lat)
        if x is None or y is None:
            row.refuse("lon" if x is None else "lat", "lon and lat are two finite numbers")
            return
        point = (x, y)
    if not wkt:
        row.geometry = {"type": "Point", "coordinates": list(point)} if point else None
        return
    try:
        geometry = shapely.from_wkt(wkt)
    except shapely.errors.GEOSException as e:
        row.refuse("geometry", f"not WKT: {e}")
        return
    if geometry is None or geometry.is_empty:
        row.refuse("geometry", "an empty geometry")
        return
    row.geometry = orjson.loads(shapely.to_geojson(geometry))
    if point is not None and (
        geometry.geom_type != "Point"
        or not math.isclose(geometry.x, point[0], abs_tol=1e-9)
        or not math.isclose(geometry.y, point[1], abs_tol=1e-9)
    ):
        row.refuse("lon", "lon/lat do not match the geometry: give one or the other")


def parse(spec: EntitySpec, data: bytes, max_rows: int) -> list[Row]:
    """A CSV import file (a header line, then one object a line) as rows. CPU-bound: run it
    through app.cpu."""
    try:
        text = data.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError as e:
        raise bad_file(f"not UTF-8 text (byte {e.start})") from None
    records = _records(text)
    first = next(records, (None, "the file is empty: a CSV import starts with a header"))
    names, error = first
    if names is None:
        raise bad_file(error or "no header")
    names = [n.strip() for n in names]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise bad_file(f"column(s) named twice in the header: {', '.join(duplicates)}", "header")
    as_json = structured(spec)
    rows: list[Row] = []
    for number, (record, error) in enumerate(records, 1):
        if number > max_rows:
            raise too_many_rows(max_rows)
        if record == []:
            continue  # a blank line
        row = Row(number)
        rows.append(row)
        if record is None:
            row.refuse("row", error or "unreadable")
            continue
        if len(record) != len(names):
            row.refuse("row", f"{len(record)} cells where the header names {len(names)}")
            continue
        cells = {n: csv_value(c) for n, c in zip(names, record, strict=True)}
        values: dict[str, Any] = {}
        for name, cell in cells.items():
            if name in (*GEOMETRY, *IDENTITY) or cell == "":
                continue
            if name in as_json:
                try:
                    values[name] = orjson.loads(cell)
                except orjson.JSONDecodeError:
                    row.refuse(name, 'a list or an object, written as JSON (e.g. ["pz-5339"])')
                    continue
            else:
                values[name] = cell
        take_identity(row, cells.get("id"), cells.get("version"))
        take_properties(spec, row, values)
        _geometry(row, cells.get("geometry", ""), cells.get("lon", ""), cells.get("lat", ""))
    return rows
