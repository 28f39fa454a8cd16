"""The application's API routes, for tests generated from the route table."""

from __future__ import annotations

from typing import Any

from app.main import create_app


def action_of(dependant: Any) -> str | None:
    """The permission-table action a route's `require(...)` dependency declares, if any."""
    for dep in dependant.dependencies:
        action = getattr(dep.call, "action", None) or action_of(dep)
        if action:
            return str(action)
    return None


def api_routes(settings: Any) -> list[tuple[str, str, str | None]]:
    """(method, path template, action) of every /api route but the docs."""
    found = []
    for route in create_app(settings).routes:
        path = getattr(route, "path", "")
        if (
            not path.startswith("/api/")
            or path.startswith("/api/docs")
            or path == "/api/openapi.json"
        ):
            continue
        for method in sorted((getattr(route, "methods", None) or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, path, action_of(route.dependant)))
    return found
