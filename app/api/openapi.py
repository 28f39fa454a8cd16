"""The OpenAPI description as clients meet the API: every error is RFC 9457 problem+json,
GeoJSON answers are described as GeoJSON, and what a request may carry is described as the
server checks it, so that generated clients and fuzzers send what it takes.

FastAPI documents a 422 of its own shape (`{"detail": [...]}`) that this API never sends
(app/errors.py answers every failure as a problem), and no other error at all. A client
generated from the description would parse errors wrongly; so each operation's error
responses are described as problems, with a `default` one for the statuses an operation can
meet anywhere (401, 403, 404, 413, 500...). The routers build their GeoJSON answers
themselves (app/api/responses.py), so FastAPI knows no schema for them.

What a request carries, FastAPI describes more loosely than the server checks it: every text
of a request (parameters and bodies) gets the pattern of text (no control characters,
app/text.py), and every id in a path is a UUID (app.api.deps.parse_uuid answers 404 to any
other). The parameters' own formats (times, bbox, CRS names) are declared where they are
read (app/api/deps.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.api.responses import GEOJSON
from app.errors import PROBLEM_MEDIA_TYPE
from app.text import TEXT_PATTERN

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


# Formats that hold no control character already (or no text at all).
_NO_TEXT = frozenset({"uuid", "date-time", "date", "time", "uri", "binary"})
_SUBSCHEMAS = ("properties", "patternProperties", "$defs")
_SUBSCHEMA = ("items", "additionalProperties", "not", "contains")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")


def _children(node: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    for key in _SUBSCHEMAS:
        found += list(node.get(key, {}).values())
    found += [node[key] for key in _SUBSCHEMA if isinstance(node.get(key), dict)]
    for key in _SUBSCHEMA_LISTS:
        found += node.get(key, [])
    return found


def _text_only(node: Any, components: dict[str, Any], seen: set[str]) -> None:
    """Give the text pattern to every free string of a request schema, following $refs."""
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            _text_only(components.get(name), components, seen)
        return
    types = node.get("type")
    is_text = types == "string" or (isinstance(types, list) and "string" in types)
    free = not {"pattern", "enum", "const"} & node.keys() and node.get("format") not in _NO_TEXT
    if is_text and free:
        node["pattern"] = TEXT_PATTERN
    for child in _children(node):
        _text_only(child, components, seen)


def request_description(schema: dict[str, Any]) -> dict[str, Any]:
    """Describe, in place, what the server takes in requests: text without control characters,
    UUIDs for the ids in paths."""
    components = schema.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                    parameter["schema"]["format"] = "uuid"
                _text_only(parameter.get("schema"), components, seen)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _text_only(media.get("schema"), components, seen)
    return schema


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
            described = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = request_description(problem_description(described))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
