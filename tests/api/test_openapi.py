"""The OpenAPI description says what the API really answers: problems for every error, GeoJSON
where Features come back."""

from __future__ import annotations

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
        for media in described.values():
            assert media["schema"] == {"$ref": "#/components/schemas/GeoJSON"}
        return list(described)

    assert content("/api/incidents", "post", "201") == ["application/geo+json"]
    assert content("/api/incidents", "post", "200") == ["application/geo+json"]
    assert content("/api/zones", "get", "200") == ["application/geo+json"]
    assert content("/api/zones/{object_id}", "patch", "200") == ["application/geo+json"]
    items = "/api/features/collections/zones/items"
    assert content(items, "get", "200") == ["application/geo+json"]
    assert [p["name"] for p in paths[items]["get"]["parameters"]][:3] == [
        "limit",
        "bbox",
        "bbox-crs",
    ]
