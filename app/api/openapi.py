"""The OpenAPI description as clients meet the API: every error is RFC 9457 problem+json, and
GeoJSON answers are described as GeoJSON.

FastAPI documents a 422 of its own shape (`{"detail": [...]}`) that this API never sends
(app/errors.py answers every failure as a problem), and no other error at all. A client
generated from the description would parse errors wrongly; so each operation's error
responses are described as problems, with a `default` one for the statuses an operation can
meet anywhere (401, 403, 404, 413, 500...). The routers build their GeoJSON answers
themselves (app/api/responses.py), so FastAPI knows no schema for them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.api.responses import GEOJSON
from app.errors import PROBLEM_MEDIA_TYPE

PROBLEM = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "what was wrong, and where",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,  # e.g. `current` (412), `allowed` (409)
}
GEOJSON_OBJECT = {
    "type": "object",
    "title": "GeoJSON",
    "description": "A GeoJSON (RFC 7946) Feature or FeatureCollection; see DESIGN §9 for "
    "the properties of each collection",
    "required": ["type"],
    "properties": {
        "type": {"enum": ["Feature", "FeatureCollection"]},
        "id": {"type": "string"},
        "geometry": {"type": ["object", "null"]},
        "properties": {"type": "object"},
        "features": {"type": "array", "items": {"type": "object"}},
        "links": {"type": "array", "items": {"type": "object"}},
    },
}
_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")


def problem_description(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a FastAPI-made description in place: problems for errors, FastAPI's own error
    models gone."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_ERRORS:
        components.pop(name, None)
    components["Problem"] = PROBLEM
    components["GeoJSON"] = GEOJSON_OBJECT
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = _PROBLEM_CONTENT
                elif GEOJSON in response.get("content", {}):
                    response["content"][GEOJSON] = {
                        "schema": {"$ref": "#/components/schemas/GeoJSON"}
                    }
            responses.setdefault(
                "default", {"description": "A problem (RFC 9457)", "content": _PROBLEM_CONTENT}
            )
    return schema


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_description(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    openapi_version=app.openapi_version,
                    summary=app.summary,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
