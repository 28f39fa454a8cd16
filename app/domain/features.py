"""One serialiser: an operational row becomes a GeoJSON Feature."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from geoalchemy2.shape import to_shape

from app.domain.base import OperationalObject
from app.domain.spec import EntitySpec
from app.geo.crs import WGS84, to_geojson, transform

COMMON_BEFORE = ("ref", "version", "title", "description")
COMMON_AFTER = (
    "visibility",
    "shared_with",
    "exercise",
    "source",
    "external_id",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
)


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        # UTC, as the database gives it back: a Feature reads the same however it was made.
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def geometry_of(row: OperationalObject, crs: str = WGS84) -> dict[str, Any] | None:
    if row.geom is None:
        return None
    geom = to_shape(row.geom)  # type: ignore[arg-type]
    return to_geojson(transform(geom, WGS84, crs))


def feature_of(
    spec: EntitySpec,
    object_id: uuid.UUID,
    value: Callable[[str], Any],
    areas: dict[str, Any] | None,
    geometry: dict[str, Any] | None,
) -> dict[str, Any]:
    """The Feature of an object whose column values `value(name)` gives: from a row, or from
    the values just written (a create need not read back what it wrote)."""
    props: dict[str, Any] = {"entity": spec.entity.value}
    for name in COMMON_BEFORE:
        props[name] = plain(value(name))
    for name in spec.fields:
        props[name] = plain(value(name))
    areas = areas or {}
    for key in ("municipality", "municipalities", "police_zone", "police_zones"):
        props[key] = areas.get(key, [] if key.endswith("s") else None)
    for name in COMMON_AFTER:
        props[name] = plain(value(name))
    return {"type": "Feature", "id": str(object_id), "geometry": geometry, "properties": props}


def to_feature(spec: EntitySpec, row: OperationalObject, crs: str = WGS84) -> dict[str, Any]:
    return feature_of(
        spec, row.id, lambda name: getattr(row, name), row.areas, geometry_of(row, crs)
    )
