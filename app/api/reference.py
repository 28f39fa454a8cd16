"""Reference layers for maps and GIS clients: region, municipalities, police zones and landmarks
as GeoJSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlalchemy import select
from starlette.responses import Response

from app.api.deps import Session, require
from app.api.responses import GEOJSON, json_response
from app.auth.principal import Principal
from app.errors import ProblemError
from app.geo.reference import LAYERS, ReferenceArea

router = APIRouter(prefix="/api/reference", tags=["reference"])


@router.get("", summary="Loaded reference layers and their area counts")
async def layers(
    session: Session, _: Annotated[Principal, Depends(require("reference:read"))]
) -> Response:
    from app.geo.reference import layer_counts

    return json_response({"layers": await layer_counts(session)})


@router.get("/{layer}", summary="One reference layer as a FeatureCollection")
async def layer(
    layer: str, session: Session, _: Annotated[Principal, Depends(require("reference:read"))]
) -> Response:
    if layer not in LAYERS:
        raise ProblemError(
            404,
            "Not found",
            f"no reference layer {layer!r}; one of {', '.join(LAYERS)}",
            type_="not-found",
        )
    rows = (
        await session.scalars(
            select(ReferenceArea).where(ReferenceArea.layer == layer).order_by(ReferenceArea.code)
        )
    ).all()
    features = [
        {
            "type": "Feature",
            "id": r.code,
            "geometry": mapping(to_shape(r.geom)),  # type: ignore[arg-type]
            "properties": {
                "layer": layer,
                "code": r.code,
                "name_fr": r.name_fr,
                "name_nl": r.name_nl,
                "parent_code": r.parent_code,
            },
        }
        for r in rows
    ]
    return json_response(
        {"type": "FeatureCollection", "features": features},
        headers={"Cache-Control": "private, max-age=300"},
        media_type=GEOJSON,
    )
