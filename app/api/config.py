"""What the page needs before anyone signs in: languages and the optional online base map."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.responses import json_response
from app.api.routing import Route
from app.auth.service import DEFAULT_LANGUAGE, LANGUAGES

router = APIRouter(prefix="/api", tags=["config"], route_class=Route)


@router.get("/config", summary="Public settings of the dashboard (no authentication)")
async def config(request: Request) -> Response:
    settings = request.app.state.settings
    return json_response(
        {
            "languages": list(LANGUAGES),
            "default_language": DEFAULT_LANGUAGE,
            "basemap_style_url": settings.basemap_style_url,
        },
        headers={"Cache-Control": "no-cache"},
    )
