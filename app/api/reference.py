"""Reference layers for maps and GIS clients: region, municipalities, police zones and landmarks
as GeoJSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api.deps import Session, require
from app.api.responses import geojson_response, json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.errors import not_found
from app.geo.reference import LAYERS, layer_features

router = APIRouter(prefix="/api/reference", tags=["reference"], route_class=Route)


@router.get("", summary="Loaded reference layers and their area counts")
async def layers(
    session: Session, _: Annotated[Principal, Depends(require("reference:read"))]
) -> Response:
    from app.geo.reference import layer_counts

    return json_response({"layers": await layer_counts(session)})


# The coarsest outline offered for display: about a kilometre.
SIMPLIFY_MAX = 0.01


@router.get("/{layer}", summary="One reference layer as a FeatureCollection")
async def layer(
    layer: str,
    session: Session,
    _: Annotated[Principal, Depends(require("reference:read"))],
    simplify: Annotated[
        float | None,
        Query(
            gt=0,
            le=SIMPLIFY_MAX,
            description="for display: outlines simplified within this tolerance (degrees, "
            "e.g. 0.0002, about 15 m), each outline still valid (ST_SimplifyPreserveTopology)",
        ),
    ] = None,
) -> Response:
    if layer not in LAYERS:
        raise not_found(
            "reference layer", detail=f"no reference layer {layer!r}; one of {', '.join(LAYERS)}"
        )
    features = await layer_features(session, layer, simplify=simplify)
    return geojson_response(
        {"type": "FeatureCollection", "features": features},
        headers={"Cache-Control": "private, max-age=300"},
    )
