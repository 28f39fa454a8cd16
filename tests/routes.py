"""The application's API routes, for tests generated from the route table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, routing

from app.main import create_app


def action_of(dependant: Any) -> str | None:
    """The permission-table action a route's `require(...)` dependency declares, if any."""
    for dep in dependant.dependencies:
        action = getattr(dep.call, "action", None) or action_of(dep)
        if action:
            return str(action)
    return None


def _every_route(app: FastAPI) -> Iterator[tuple[str, set[str], Any]]:
    """(path, methods, dependant) of every route, included routers' too. Newer FastAPI keeps an
    included router as one lazy entry of `app.routes`: walked as a plain list, it hid every
    route but two, and the tests built on this passed with nothing to check."""
    contexts = getattr(routing, "iter_route_contexts", None)
    entries = contexts(app.routes) if contexts else app.routes
    for entry in entries:
        route = getattr(entry, "original_route", entry)
        yield (
            getattr(entry, "path", None) or getattr(route, "path", ""),
            set(getattr(entry, "methods", None) or getattr(route, "methods", None) or ()),
            getattr(route, "dependant", None),
        )


def api_routes(settings: Any) -> list[tuple[str, str, str | None]]:
    """(method, path template, action) of every /api route but the docs."""
    found = []
    for path, methods, dependant in _every_route(create_app(settings)):
        if (
            not path.startswith("/api/")
            or path.startswith("/api/docs")
            or path == "/api/openapi.json"
        ):
            continue
        action = action_of(dependant) if dependant is not None else None
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            found.append((method, path, action))
    # Guards the guard: the app has well over a hundred API operations.
    assert len(found) > 100, f"only {len(found)} API routes found: the route walk is broken"
    return found


def blanked(response: Any, *idents: str) -> tuple[int, str]:
    """A response's status and body with the identifiers it was asked about blanked out: two
    answers that differ after this tell a hidden thing from an unknown one."""
    text = str(response.text)
    for ident in idents:
        text = text.replace(ident, "<id>")
    return int(response.status_code), text
