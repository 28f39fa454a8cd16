"""Response shapes shared by routers: JSON via orjson, Features with their version as ETag."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from app.geo.crs import OGC_URI, WGS84

GEOJSON = "application/geo+json"


class GeoJSONResponse(Response):
    """Names GeoJSON as the success media type in the OpenAPI description (`response_class=`);
    the endpoints build their answers with feature_response and json_response."""

    media_type = GEOJSON


def json_response(
    body: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    return Response(
        orjson.dumps(body, default=str), status_code=status, headers=headers, media_type=media_type
    )


def geojson_response(
    body: Any, status: int = 200, *, crs: str = WGS84, headers: dict[str, str] | None = None
) -> Response:
    """GeoJSON, with the CRS its coordinates are in (`Content-Crs`, OGC API – Features Part 2)."""
    return json_response(
        body, status, {"Content-Crs": f"<{OGC_URI[crs]}>", **(headers or {})}, GEOJSON
    )


def feature_response(
    feature: dict[str, Any],
    status: int = 200,
    *,
    crs: str = WGS84,
    location: str | None = None,
    notes: list[str] | None = None,
) -> Response:
    headers = {"ETag": f'"{feature["properties"]["version"]}"'}
    if location:
        headers["Location"] = location
    if notes:
        feature = {**feature, "notes": notes}
    return geojson_response(feature, status, crs=crs, headers=headers)
