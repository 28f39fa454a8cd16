"""Routers for the operational objects (DESIGN §9): one factory, one spec per collection.

No `from __future__ import annotations` here: FastAPI reads the per-collection body types
from the annotations of the endpoint functions built below.
"""

import hashlib
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from pydantic import BaseModel, Field, create_model
from starlette.responses import Response

from app.api.deps import (
    Q_MAX_LENGTH,
    IfMatch,
    Session,
    bbox_param,
    check_key_scope,
    crs_param,
    if_match,
    list_filter,
    parse_time,
    parse_uuid,
    require,
    require_close_if_closing,
    time_query,
    uuid_query,
    values_query,
)
from app.api.responses import (
    GEOJSON,
    GeoJSONResponse,
    feature_response,
    geojson_response,
    json_response,
)
from app.api.routing import Route
from app.auth.permissions import read_scope, scope_of
from app.auth.principal import Principal
from app.domain import changes, objects, timetravel
from app.domain.changes import change_message
from app.domain.features import to_feature
from app.domain.schema import Input, Props
from app.domain.spec import EntitySpec
from app.errors import not_found
from app.geo.crs import WGS84, to_geojson, transform
from app.geo.validation import ParsedGeometry, parse_geometry
from app.settings import Settings

GeometryIn = Annotated[
    dict[str, Any] | None,
    Field(description="GeoJSON geometry (RFC 7946 lon/lat, or the CRS named by ?crs=)"),
]


class FeatureEnvelope(Input):
    """A GeoJSON Feature as sent by clients; `properties` is typed per collection."""

    type: Literal["Feature"]
    id: str | None = None
    bbox: list[float] | None = None
    geometry: GeometryIn = None
    properties: Props  # narrowed per collection by _feature_model


def _feature_model(spec: EntitySpec, props: type[BaseModel], suffix: str) -> Any:
    return create_model(
        f"{spec.model.__name__}{suffix}", __base__=FeatureEnvelope, properties=(props, ...)
    )


async def _geometry(
    spec: EntitySpec, raw: dict[str, Any] | None, crs: str, repair: bool
) -> ParsedGeometry | None:
    if raw is None:
        return None
    return await parse_geometry(raw, crs=crs, repair=repair, allowed=spec.geometry_types)


def _reproject(feature: dict[str, Any], crs: str) -> dict[str, Any]:
    if crs == WGS84 or feature.get("geometry") is None:
        return feature
    from shapely.geometry import shape

    return {**feature, "geometry": to_geojson(transform(shape(feature["geometry"]), WGS84, crs))}


def _next_link(request: Request, cursor: uuid.UUID) -> dict[str, str]:
    url = str(request.url.include_query_params(cursor=str(cursor)))
    return {"rel": "next", "href": url, "type": GEOJSON, "title": "next page"}


def object_router(spec: EntitySpec, settings: Settings) -> APIRouter:
    router = APIRouter(prefix=f"/api/{spec.path}", tags=[spec.path], route_class=Route)
    create_body = _feature_model(spec, spec.create_schema, "Feature")
    patch_body = _feature_model(spec, spec.update_schema, "Patch")
    label = spec.label
    entity = spec.entity.value
    statuses = [s.value for s in spec.status_enum] if spec.status_enum else None
    kinds = [k.value for k in spec.kind_enum] if spec.kind_enum else None

    @router.post(
        "",
        status_code=201,
        response_class=GeoJSONResponse,
        summary=f"Create a {label}",
        responses={
            200: {
                "description": "Repeated create: the first object, nothing new",
                "content": {GEOJSON: {}},
            }
        },
    )
    async def create(
        request: Request,
        session: Session,
        payload: Annotated[create_body, Body(alias="body")],  # type: ignore[valid-type]
        principal: Annotated[Principal, Depends(require(f"{entity}:create"))],
        crs: Annotated[str, Depends(crs_param)],
        repair: bool = False,
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", max_length=200)
        ] = None,
    ) -> Response:
        body: FeatureEnvelope = payload
        await check_key_scope(request, principal, entity, body.properties)
        geometry = await _geometry(spec, body.geometry, crs, repair)
        fingerprint = hashlib.sha256(await request.body()).hexdigest() if idempotency_key else None
        written = await objects.create(
            session,
            spec,
            body.properties,
            geometry,
            principal.as_actor,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
        await session.commit()
        location = f"/api/{spec.path}/{written.id}"
        return feature_response(
            _reproject(written.feature, crs),
            201 if written.created else 200,
            crs=crs,
            location=location,
            notes=written.notes,
        )

    @router.get("", summary=f"List {spec.path}", response_class=GeoJSONResponse)
    async def list_(
        request: Request,
        session: Session,
        principal: Annotated[Principal, Depends(require(f"{entity}:read"))],
        crs: Annotated[str, Depends(crs_param)],
        bbox: Annotated[tuple[float, float, float, float] | None, Depends(bbox_param)],
        start: Annotated[str | None, time_query("objects whose window ends after this")] = None,
        end: Annotated[str | None, time_query("objects whose window starts before this")] = None,
        status: Annotated[str | None, values_query("statuses", statuses)] = None,
        category: Annotated[str | None, values_query("categories (as kind)", kinds)] = None,
        kind: Annotated[str | None, values_query("kinds", kinds)] = None,
        municipality: Annotated[
            str | None, Query(description="NIS codes, comma-separated, e.g. 21004")
        ] = None,
        police_zone: Annotated[
            str | None, Query(description="police zone numbers, comma-separated, e.g. 5339")
        ] = None,
        q: Annotated[str | None, Query(max_length=Q_MAX_LENGTH)] = None,
        exercise: bool | None = None,
        subject: Annotated[
            str | None, uuid_query("the object a zone or logbook entry belongs to")
        ] = None,
        at: Annotated[str | None, time_query("time travel: the picture as it stood then")] = None,
        limit: Annotated[
            int, Query(ge=1, le=settings.page_limit_max)
        ] = settings.page_limit_default,
        cursor: Annotated[str | None, uuid_query("the page to read, as a next link gives")] = None,
    ) -> Response:
        f = list_filter(
            spec,
            bbox=bbox,
            start=parse_time(start, "start"),
            end=parse_time(end, "end"),
            status=status,
            category=category,
            kind=kind,
            municipality=municipality,
            police_zone=police_zone,
            q=q,
            exercise=exercise,
            subject=subject,
        )
        after = parse_uuid(cursor, "cursor") if cursor else None
        head = await changes.head(session)
        when = parse_time(at, "at")
        if when is not None:
            features, more = await timetravel.page_at(
                session, spec, when, f, scope_of(principal), limit, after
            )
            features = [_reproject(x, crs) for x in features]
        else:
            features, more = await objects.page(
                session, spec, f, read_scope(principal, spec.model), limit, after, crs
            )
        links = [{"rel": "self", "href": str(request.url), "type": GEOJSON}]
        if more:
            links.append(_next_link(request, uuid.UUID(features[-1]["id"])))
        body = {
            "type": "FeatureCollection",
            "features": features,
            "links": links,
            "numberReturned": len(features),
            "head": head,
        }
        if when is not None:
            body["at"] = when.isoformat()
        return geojson_response(body, crs=crs)

    @router.get("/{object_id}", summary=f"Read a {label}", response_class=GeoJSONResponse)
    async def read(
        session: Session,
        object_id: str,
        principal: Annotated[Principal, Depends(require(f"{entity}:read"))],
        crs: Annotated[str, Depends(crs_param)],
        at: Annotated[str | None, time_query("the object as it stood then")] = None,
    ) -> Response:
        oid = parse_uuid(object_id)
        when = parse_time(at, "at")
        if when is not None:
            feature = await timetravel.feature_at(session, spec, oid, when, scope_of(principal))
            if feature is None:
                raise not_found(label, oid)
            return feature_response(_reproject(feature, crs), crs=crs)
        row = await objects.get(session, spec, oid, read_scope(principal, spec.model))
        return feature_response(to_feature(spec, row, crs), crs=crs)

    @router.patch(
        "/{object_id}",
        response_class=GeoJSONResponse,
        summary=f"Change a {label} (If-Match: its version)",
        responses={
            412: {"description": "Stale version; body holds the current Feature"},
            409: {"description": "Status transition not allowed"},
        },
    )
    async def patch(
        request: Request,
        session: Session,
        object_id: str,
        payload: Annotated[patch_body, Body(alias="body")],  # type: ignore[valid-type]
        principal: Annotated[Principal, Depends(require(f"{entity}:update"))],
        crs: Annotated[str, Depends(crs_param)],
        if_match_header: IfMatch = None,
        repair: bool = False,
    ) -> Response:
        oid = parse_uuid(object_id)
        expected = if_match(if_match_header, required=True)
        assert expected is not None
        body: FeatureEnvelope = payload
        await check_key_scope(request, principal, entity, body.properties)
        await require_close_if_closing(request, principal, spec, body.properties)
        geometry = await _geometry(spec, body.geometry, crs, repair)
        written = await objects.update(
            session,
            spec,
            oid,
            body.properties,
            geometry,
            expected,
            principal.as_actor,
            read_scope(principal, spec.model),
        )
        await session.commit()
        return feature_response(_reproject(written.feature, crs), crs=crs, notes=written.notes)

    @router.delete(
        "/{object_id}", status_code=204, summary=f"Delete a wrongly created {label} (admin)"
    )
    async def delete(
        session: Session,
        object_id: str,
        principal: Annotated[Principal, Depends(require(f"{entity}:delete"))],
        if_match_header: IfMatch = None,
    ) -> Response:
        await objects.remove(
            session,
            spec,
            parse_uuid(object_id),
            if_match(if_match_header, required=False),
            principal.as_actor,
        )
        await session.commit()
        return Response(status_code=204)

    @router.get("/{object_id}/history", summary=f"Every change of a {label}, oldest first")
    async def history(
        session: Session,
        object_id: str,
        principal: Annotated[Principal, Depends(require(f"{entity}:read"))],
    ) -> Response:
        oid = parse_uuid(object_id)
        records = await changes.history(session, spec.entity, oid)
        scope = scope_of(principal)
        visible = [c for c in records if scope.sees(c.feature["properties"])]
        if not visible:
            raise not_found(label, oid)
        return json_response({"id": str(oid), "changes": [change_message(c) for c in visible]})

    return router
