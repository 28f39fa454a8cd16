"""Coordinate reference systems the API speaks: WGS 84 on the wire, Belgian Lambert on request."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from app.errors import unsupported_crs

WGS84 = "EPSG:4326"
LAMBERT72 = "EPSG:31370"
LAMBERT2008 = "EPSG:3812"
SUPPORTED = (WGS84, LAMBERT72, LAMBERT2008)

_ALIASES = {
    "EPSG:4326": WGS84,
    "CRS84": WGS84,
    "OGC:CRS84": WGS84,
    "HTTP://WWW.OPENGIS.NET/DEF/CRS/OGC/1.3/CRS84": WGS84,
    "EPSG:31370": LAMBERT72,
    "HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/31370": LAMBERT72,
    "EPSG:3812": LAMBERT2008,
    "HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/3812": LAMBERT2008,
    "HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/4326": WGS84,
}

# The spellings a request may use, as the API description lists them (any letter case is taken).
CRS_NAMES = (
    WGS84,
    LAMBERT72,
    LAMBERT2008,
    "CRS84",
    "OGC:CRS84",
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "http://www.opengis.net/def/crs/EPSG/0/31370",
    "http://www.opengis.net/def/crs/EPSG/0/3812",
)
assert {name.upper() for name in CRS_NAMES} == set(_ALIASES)

# Plausible projected extents of Belgium, to catch lon/lat sent under a Lambert label.
PROJECTED_EXTENT = {
    LAMBERT72: (10_000.0, 10_000.0, 320_000.0, 260_000.0),
    LAMBERT2008: (480_000.0, 480_000.0, 820_000.0, 780_000.0),
}

OGC_URI = {
    WGS84: "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    LAMBERT72: "http://www.opengis.net/def/crs/EPSG/0/31370",
    LAMBERT2008: "http://www.opengis.net/def/crs/EPSG/0/3812",
}


def parse_crs(value: str | None, where: str = "crs") -> str:
    if value is None or value == "":
        return WGS84
    crs = _ALIASES.get(value.strip().upper())
    if crs is None:
        raise unsupported_crs(where, value, list(SUPPORTED))
    return crs


@lru_cache(maxsize=8)
def _transformer(src: str, dst: str) -> Transformer:
    # always_xy: GeoJSON order (lon, lat / easting, northing) whatever the CRS axis order says.
    return Transformer.from_crs(src, dst, always_xy=True)


def transform(geom: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    if src == dst:
        return geom
    t = _transformer(src, dst)

    def _apply(coords: Any) -> Any:
        x, y = t.transform(coords[:, 0], coords[:, 1])
        coords[:, 0], coords[:, 1] = x, y
        return coords

    return shapely.transform(geom, _apply)


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """A geometry as a GeoJSON dict, written by GEOS: shapely's mapping() builds it from
    Python tuples, 17 ms of the event loop for 10,000 vertices, against 1 ms for this."""
    geojson: dict[str, Any] = orjson.loads(shapely.to_geojson(geom))
    return geojson


def geojson_geometry(text: str | None, crs: str = WGS84) -> Any:
    """A geometry PostGIS wrote as GeoJSON (ST_AsGeoJSON, 15 decimals), in `crs`: embedded
    as written when no reprojection is asked (orjson copies it into the response as is)."""
    if text is None:
        return None
    if crs == WGS84:
        return orjson.Fragment(text)
    return to_geojson(transform(shapely.from_geojson(text), WGS84, crs))
