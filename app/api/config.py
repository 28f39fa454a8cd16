"""What the page needs before anyone signs in: languages and the optional online base map."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from app.api.responses import json_response
from app.api.routing import Route
from app.auth.service import DEFAULT_LANGUAGE, LANGUAGES
from app.settings import Settings


def router(settings: Settings) -> APIRouter:
    """The config route, answering from the settings the app was made with: it needs nothing
    the lifespan starts."""
    config_router = APIRouter(prefix="/api", tags=["config"], route_class=Route)
    body = {
        "languages": list(LANGUAGES),
        "default_language": DEFAULT_LANGUAGE,
        "basemap_style_url": settings.basemap_style_url,
        # Objects of a collection above which the map draws it from vector tiles.
        "tile_threshold": settings.tile_threshold,
    }

    @config_router.get("/config", summary="Public settings of the dashboard (no authentication)")
    async def config() -> Response:
        return json_response(body, headers={"Cache-Control": "no-cache"})

    return config_router
