"""The OpenAPI description says what the API really answers: problems for every error, GeoJSON
where Features come back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from app.main import create_app

PROBLEM = "application/problem+json"


def test_every_error_is_described_as_a_problem(settings: Any) -> None:
    schema = create_app(settings).openapi()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert schema["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
    ]
    wrong = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                error = status == "default" or status[0] in "45"
                if error and list(response.get("content", {})) != [PROBLEM]:
                    wrong.append((method, path, status))
            if "default" not in operation["responses"]:
                wrong.append((method, path, "no default"))
    assert wrong == []


def test_features_come_back_as_geojson(settings: Any) -> None:
    paths = create_app(settings).openapi()["paths"]

    def content(path: str, method: str, status: str) -> list[str]:
        described = paths[path][method]["responses"][status].get("content", {})
        for name, media in described.items():
            if name == "application/geo+json":
                assert media["schema"] == {"$ref": "#/components/schemas/GeoJSON"}
        return list(described)

    assert content("/api/incidents", "post", "201") == ["application/geo+json"]
    # A repeated create (GeoJSON), or the per-feature results of a bulk create (JSON).
    assert content("/api/incidents", "post", "200") == ["application/geo+json", "application/json"]
    bulk = paths["/api/incidents"]["post"]["responses"]["200"]["content"]["application/json"]
    assert bulk["schema"]["title"] == "BulkCreateResult"
    assert content("/api/zones", "get", "200") == ["application/geo+json"]
    assert content("/api/zones/{object_id}", "patch", "200") == ["application/geo+json"]
    items = "/api/features/collections/zones/items"
    assert content(items, "get", "200") == ["application/geo+json"]
    assert [p["name"] for p in paths[items]["get"]["parameters"]][:3] == [
        "limit",
        "bbox",
        "bbox-crs",
    ]


def _resolve(schema: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node and len(node) == 1:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _strings(schema: dict[str, Any], node: Any, seen: set[int]) -> Iterator[dict[str, Any]]:
    """Every string schema under `node`, following $refs."""
    node = _resolve(schema, node)
    if isinstance(node, dict):
        if id(node) in seen:
            return
        seen.add(id(node))
        ref = node.get("$ref")
        if ref:
            yield from _strings(schema, {"$ref": ref}, seen)
        if node.get("type") == "string" or "string" in (node.get("type") or []):
            yield node
        for value in node.values():
            if isinstance(value, dict | list):
                yield from _strings(schema, value, seen)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(schema, item, seen)


def _request_parts(schema: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                yield f"{where} {parameter['in']} {parameter['name']}", parameter["schema"]
            for media in operation.get("requestBody", {}).get("content", {}).values():
                yield f"{where} body", media["schema"]


def test_every_text_a_request_carries_is_described_without_control_characters(
    settings: Any,
) -> None:
    """A client generated from the description (or a fuzzer) must not send what the server
    refuses as text no person types (app/text.py)."""
    schema = create_app(settings).openapi()
    loose = []
    for where, part in _request_parts(schema):
        for string in _strings(schema, part, set()):
            # A binary body (a document's file) is bytes, not text (app.api.openapi._NO_TEXT).
            formats = ("uuid", "date-time", "date", "time", "uri", "binary")
            formatted = string.get("format") in formats
            if formatted or {"enum", "const"} & string.keys():
                continue
            pattern = string.get("pattern")
            if pattern is None or any(
                re.search(pattern, f"Feu{bad}rue Haute") for bad in ("\x00", "\x07", "\x1b", "\x7f")
            ):
                loose.append((where, string))
    assert loose == []


def test_ids_in_paths_are_described_as_uuids(settings: Any) -> None:
    schema = create_app(settings).openapi()
    ids = [
        (path, parameter["schema"].get("format"))
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and parameter["name"].endswith("_id")
    ]
    assert len(ids) > 40
    assert {fmt for _, fmt in ids} == {"uuid"}


def test_list_parameters_are_described_as_the_server_reads_them(settings: Any) -> None:
    schema = create_app(settings).openapi()
    parameters = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/incidents"]["get"]["parameters"]
    }
    bbox = parameters["bbox"]["pattern"]
    assert re.search(bbox, "4.3,50.8,4.4,50.9") and re.search(bbox, "-1e2,0,1.5E+1,2")
    for refused in ("-inf,-inf,inf,inf", "nan,0,1,2", "4.3,50.8,4.4", " 4.3,50.8,4.4,50.9"):
        assert not re.search(bbox, refused), refused
    for name in ("at", "start", "end"):
        assert parameters[name]["format"] == "date-time"
        assert "9999-12-30" in parameters[name]["description"]
    assert {"EPSG:4326", "EPSG:31370", "EPSG:3812"} <= set(parameters["crs"]["enum"])
    status = parameters["status"]["pattern"]
    assert re.search(status, "reported,confirmed") and not re.search(status, "burning")
    assert parameters["cursor"]["format"] == parameters["subject"]["format"] == "uuid"
    logbook = [p["name"] for p in schema["paths"]["/api/logbook"]["get"]["parameters"]]
    assert "status" not in logbook, "the logbook has no status: every value would be refused"


def test_a_token_request_says_what_each_grant_needs(settings: Any) -> None:
    form = create_app(settings).openapi()["paths"]["/api/auth/token"]["post"]["requestBody"]
    grants = form["content"]["application/x-www-form-urlencoded"]["schema"]
    assert grants["if"]["properties"]["grant_type"] == {"const": "refresh_token"}
    assert grants["then"]["required"] == ["refresh_token"]
    assert grants["else"]["required"] == ["username", "password"]
