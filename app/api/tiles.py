"""Vector tiles of the operational layers, their TileJSON for GIS clients (QGIS, MapLibre), and
the dashboard's compact first load of the map's collections.

Tiles are read with the permission table and partner scope of the lists, and the lists' own
filters (`objects.filter_query`: `status`, `category`, the time window, `exercise`...). Each
tile answers with an ETag naming its generation (the last change that met it,
app.realtime.tilecache), the caller's scope and the filters; `If-None-Match` with it answers
304 without building anything.

No `from __future__ import annotations`: FastAPI reads the dependencies from the annotations of
the endpoint functions built below.
"""

from dataclasses import fields
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import Response

from app.api.deps import Session, require, runtime_of
from app.api.features import TILED as TILED_COLLECTIONS
from app.api.objects import filter_query
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.permissions import may, scope_of
from app.auth.principal import Principal
from app.domain import changes, objects, picture
from app.domain.enums import Entity
from app.domain.objects import ListFilter
from app.domain.registry import BY_ENTITY, BY_PATH
from app.domain.spec import EntitySpec
from app.domain.tiles import CLUSTER_MAX_ZOOM, MAX_ZOOM, layers_of, tile, valid_tile
from app.errors import validation_problem
from app.realtime.tilecache import Cached
from app.settings import Settings

PREFIX = "/api/tiles"
MVT = "application/vnd.mapbox-vector-tile"
# The collections drawn on the map, in the order of its layers.
TILED = TILED_COLLECTIONS
# The region's bounds and a view of it, for a GIS client's first look.
BOUNDS = [4.2438, 50.7637, 4.4823, 50.9139]
CENTER = [4.3572, 50.8427, 11]


def _tile_number(value: str, name: str) -> int:
    if not value.isdigit() or len(value) > 8:
        raise validation_problem(
            [{"loc": ["path", name], "msg": "a whole number from 0"}], status=400
        )
    return int(value)


def _address(z: str, x: str, y: str) -> tuple[int, int, int]:
    zi, xi, yi = _tile_number(z, "z"), _tile_number(x, "x"), _tile_number(y, "y")
    wrong = valid_tile(zi, xi, yi)
    if wrong is not None:
        msg = f"from 0 to {MAX_ZOOM}" if wrong == "z" else f"from 0 to {2**zi - 1} at zoom {zi}"
        raise validation_problem([{"loc": ["path", wrong], "msg": msg}], status=400)
    return zi, xi, yi


def _filter_key(f: ListFilter) -> tuple[Any, ...]:
    """The filters as part of a cache key: tiles asked with different filters hold different
    objects."""
    return tuple(
        tuple(sorted(v)) if isinstance(v, list) else v
        for v in (getattr(f, field.name) for field in fields(f))
    )


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def tilejson(request: Request, spec: EntitySpec) -> dict[str, Any]:
    """TileJSON 3.0.0: the tiles' address (with the filters asked here), their zooms and the
    fields of each layer."""
    # The route takes no parameter but the filters (checked by its dependency), so the query
    # passes to the tiles' address as it was asked, encoded as it came.
    query = request.url.query
    url = f"{_base(request)}{PREFIX}/{spec.path}/{{z}}/{{x}}/{{y}}.mvt" + (
        f"?{query}" if query else ""
    )
    layers = []
    for layer in layers_of(spec):
        entry: dict[str, Any] = {
            "id": layer.name,
            "description": layer.description,
            "fields": layer.fields,
            "minzoom": 0,
            "maxzoom": MAX_ZOOM,
        }
        if layer.name == "incident-cluster":
            entry["maxzoom"] = CLUSTER_MAX_ZOOM
        layers.append(entry)
    return {
        "tilejson": "3.0.0",
        "name": f"sitcen {spec.path}",
        "description": f"The {spec.path} of the Brussels-Capital Region's operational picture, "
        "as the caller may see them (send the same Authorization or X-API-Key header)",
        "version": "1.0.0",
        "attribution": "safe.brussels SITCEN",
        "scheme": "xyz",
        "tiles": [url],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": BOUNDS,
        "center": CENTER,
        "vector_layers": layers,
    }


def _collection_router(spec: EntitySpec) -> APIRouter:
    router = APIRouter(prefix=f"{PREFIX}/{spec.path}", tags=["vector tiles"], route_class=Route)
    reader = Depends(require(f"{spec.entity.value}:read"))
    entity = spec.entity.value

    @router.get("/tilejson.json", summary=f"{spec.path}: TileJSON 3.0.0 of the vector tiles")
    async def describe(
        request: Request,
        _: Annotated[Principal, reader],
        __: Annotated[ListFilter, Depends(filter_query(spec))],
    ) -> Response:
        return json_response(tilejson(request, spec), headers={"Cache-Control": "no-cache"})

    @router.get(
        "/{z}/{x}/{y}.mvt",
        summary=f"{spec.path}: one vector tile (Mapbox Vector Tile)",
        responses={
            200: {"content": {MVT: {}}, "description": "the tile (empty: nothing there)"},
            304: {"description": "the tile held (If-None-Match) is still the tile"},
        },
    )
    async def one_tile(
        request: Request,
        session: Session,
        z: str,
        x: str,
        y: str,
        principal: Annotated[Principal, reader],
        f: Annotated[ListFilter, Depends(filter_query(spec))],
        if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
    ) -> Response:
        zi, xi, yi = _address(z, x, y)
        scope = scope_of(principal)
        cache = runtime_of(request).tile_cache
        assert cache is not None
        key = (entity, scope, _filter_key(f), zi, xi, yi)
        # Read before the tile is built: the tile holds at least this generation.
        generation = cache.generation(entity, zi, xi, yi)
        etag = cache.etag(key, generation)
        headers = {
            "ETag": etag,
            "Cache-Control": "private, no-cache",
            "Vary": "Authorization, X-API-Key",
        }
        if if_none_match is not None and etag in (t.strip() for t in if_none_match.split(",")):
            return Response(status_code=304, headers=headers)
        found = cache.get(key, generation)
        if found is None:
            body = await tile(session, spec, f, scope.clause(spec.model), zi, xi, yi)
            found = Cached(generation, etag, body)
            cache.put(key, found)
        return Response(found.body, media_type=MVT, headers=headers)

    return router


def _service_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["vector tiles"], route_class=Route)
    reader = Depends(require("reference:read"))  # every role: what it may read is listed

    @router.get(f"{PREFIX[4:]}", summary="The tiled layers this caller may read")
    async def tilesets(request: Request, principal: Annotated[Principal, reader]) -> Response:
        base = _base(request)
        return json_response(
            {
                "tilesets": [
                    {
                        "id": path,
                        "entity": BY_PATH[path].entity.value,
                        "links": [
                            {
                                "rel": "describedby",
                                "type": "application/json",
                                "title": f"{path}: TileJSON 3.0.0",
                                "href": f"{base}{PREFIX}/{path}/tilejson.json",
                            },
                            {
                                "rel": "item",
                                "type": MVT,
                                "title": f"{path}: tiles",
                                "href": f"{base}{PREFIX}/{path}/{{z}}/{{x}}/{{y}}.mvt",
                                "templated": True,
                            },
                        ],
                    }
                    for path in TILED
                    if may(principal, f"{BY_PATH[path].entity.value}:read")
                ]
            }
        )

    @router.get(
        "/picture",
        summary="The map's collections in one answer: Features, or compact rows above the "
        "tile threshold (the dashboard's first load)",
    )
    async def first_picture(
        session: Session,
        principal: Annotated[Principal, reader],
        exercise: Annotated[
            bool | None,
            Query(
                description="false: the real picture (no exercise object); true: the exercise "
                "picture (only them); absent: both, as the lists"
            ),
        ] = None,
    ) -> Response:
        scope = scope_of(principal)
        chosen = picture.picture_filter(exercise)
        # Read first: what follows is at least as new as the head it is given with.
        head = await changes.head(session)
        parts = []
        for entity in picture.COMPACT:
            spec = BY_ENTITY[Entity(entity)]
            if not may(principal, f"{entity}:read"):
                continue
            clause = scope.clause(spec.model)
            n = await picture.count(session, spec, clause, exercise)
            tiled = n > settings.tile_threshold and entity not in picture.NEVER_TILED
            meta: dict[str, Any] = {"path": spec.path, "count": n, "tiled": tiled}
            if tiled:
                meta["fields"] = picture.fields_of(spec)
                rows = b'"rows":' + await picture.compact(session, spec, clause, exercise)
            else:
                features = [
                    f
                    async for chunk in objects.stream(session, spec, chosen, clause, 1000)
                    for f in chunk
                ]
                rows = b'"features":' + orjson.dumps(features)
            parts.append(b'"%s":%s,%s}' % (entity.encode(), orjson.dumps(meta)[:-1], rows))
        body = b'{"head":%d,"threshold":%d,"collections":{%s}}' % (
            head,
            settings.tile_threshold,
            b",".join(parts),
        )
        return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})

    return router


def routers(settings: Settings) -> list[APIRouter]:
    return [_service_router(settings), *(_collection_router(BY_PATH[p]) for p in TILED)]
