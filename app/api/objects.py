"""Routers for the operational objects (DESIGN §9): one factory, one spec per collection.

No `from __future__ import annotations` here: FastAPI reads the per-collection body types
from the annotations of the endpoint functions built below.
"""

import hashlib
import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Depends, Header, Query, Request
from pydantic import (
    BaseModel,
    Field,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    create_model,
)
from sqlalchemy.ext.asyncio import AsyncSession
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
from app.api.routing import OBJECT_ID, Route
from app.auth.permissions import read_scope, scope_of
from app.auth.principal import Principal
from app.domain import changes, objects, timetravel
from app.domain.changes import change_message
from app.domain.enums import Severity
from app.domain.features import to_feature
from app.domain.objects import ListFilter
from app.domain.schema import Input, Props
from app.domain.spec import EntitySpec
from app.errors import (
    ProblemError,
    not_found,
    payload_too_large,
    pydantic_errors,
    validation_problem,
)
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


# A bulk create (POST of a FeatureCollection) takes at most this many features; more is a 413.
BULK_MAX_FEATURES = 1000


# The answer to a FeatureCollection: one result per feature, in the order sent.
BULK_RESULT: dict[str, Any] = {
    "type": "object",
    "title": "BulkCreateResult",
    "required": ["created", "existing", "refused", "results"],
    "properties": {
        "created": {"type": "integer", "description": "features created"},
        "existing": {"type": "integer", "description": "repeats: the first object answered"},
        "refused": {"type": "integer", "description": "features refused, with their problem"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "status"],
                "properties": {
                    "index": {"type": "integer", "description": "the feature's place, from 0"},
                    "status": {"type": "integer", "description": "201, 200 or a 4xx"},
                    "id": {"type": "string", "format": "uuid"},
                    "feature": {"type": "object", "description": "the stored Feature"},
                    "notes": {"type": "array", "items": {"type": "string"}},
                    "problem": {"type": "object", "description": "an RFC 9457 problem"},
                },
            },
        },
    },
}


class CollectionEnvelope(Input):
    """A GeoJSON FeatureCollection as sent by clients to create its features."""

    type: Literal["FeatureCollection"]
    bbox: list[float] | None = None


class BulkEnvelope(CollectionEnvelope):
    """A FeatureCollection to create, as received: each feature is validated on its own, so
    that one bad feature is refused with its problems and the others are created."""

    features: list[Any]


def _feature_or_collection(feature: Any, collection: Any) -> Any:
    """The create body: a Feature (validated, with its errors where they always were) or a
    FeatureCollection (a BulkEnvelope; its features validated one by one by the route). The
    OpenAPI description names both."""

    def either(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if isinstance(value, dict) and value.get("type") == "FeatureCollection":
            return BulkEnvelope.model_validate(value)
        return handler(value)

    return Annotated[feature, WrapValidator(either, json_schema_input_type=feature | collection)]


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


def _bulk_answer(outcomes: list[Any], crs: str) -> dict[str, Any]:
    """The answer to a bulk create: counts, then one result per feature in order."""
    results: list[dict[str, Any]] = []
    counts = {"created": 0, "existing": 0, "refused": 0}
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, ProblemError):
            counts["refused"] += 1
            where = ["body", "features", index]
            results.append(
                {"index": index, "status": outcome.status, "problem": _located(outcome, where)}
            )
            continue
        counts["created" if outcome.created else "existing"] += 1
        result: dict[str, Any] = {
            "index": index,
            "status": 201 if outcome.created else 200,
            "id": str(outcome.id),
            "feature": _reproject(outcome.feature, crs),
        }
        if outcome.notes:
            result["notes"] = outcome.notes
        results.append(result)
    return {**counts, "results": results}


def _located(problem: ProblemError, where: list[Any]) -> dict[str, Any]:
    """A feature's problem as in a single create's answer, its errors located in the request
    (`["body", "features", 3, "properties", "title"]`)."""
    body = problem.body()
    errors = body.get("errors")
    if errors:
        body["errors"] = [
            e if e.get("loc", [])[:3] == where else {**e, "loc": where + _relative(e["loc"])}
            for e in errors
        ]
    return body


def _relative(loc: list[Any]) -> list[Any]:
    """A single create's error location, without its leading `body`."""
    return list(loc[1:]) if loc[:1] == ["body"] else list(loc)


def _next_link(request: Request, cursor: uuid.UUID) -> dict[str, str]:
    url = str(request.url.include_query_params(cursor=str(cursor)))
    return {"rel": "next", "href": url, "type": GEOJSON, "title": "next page"}


def filter_query(spec: EntitySpec) -> Callable[..., Coroutine[Any, Any, ListFilter]]:
    """A dependency reading a collection's list filters from the query string: its list, and
    every other reading of the same list (the exports, app/exchange), filter alike."""
    statuses = [s.value for s in spec.status_enum] if spec.status_enum else None
    kinds = [k.value for k in spec.kind_enum] if spec.kind_enum else None

    async def filters(
        bbox: Annotated[tuple[float, float, float, float] | None, Depends(bbox_param)],
        start: Annotated[str | None, time_query("objects whose window ends after this")] = None,
        end: Annotated[str | None, time_query("objects whose window starts before this")] = None,
        status: Annotated[str | None, values_query("statuses", statuses)] = None,
        category: Annotated[str | None, values_query("categories (as kind)", kinds)] = None,
        kind: Annotated[str | None, values_query("kinds", kinds)] = None,
        severity: Annotated[
            str | None, values_query("severities (incidents)", [s.value for s in Severity])
        ] = None,
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
        activation: Annotated[
            str | None, uuid_query("the GCC activation whose cell the objects belong to")
        ] = None,
        zone: Annotated[
            str | None, uuid_query("a zone: the objects linked to it (a zone's plans)")
        ] = None,
    ) -> ListFilter:
        return list_filter(
            spec,
            bbox=bbox,
            start=parse_time(start, "start"),
            end=parse_time(end, "end"),
            status=status,
            category=category,
            kind=kind,
            severity=severity,
            municipality=municipality,
            police_zone=police_zone,
            q=q,
            exercise=exercise,
            subject=subject,
            activation=activation,
            zone=zone,
        )

    return filters


def object_router(spec: EntitySpec, settings: Settings) -> APIRouter:
    router = APIRouter(prefix=f"/api/{spec.path}", tags=[spec.path], route_class=Route)
    create_body = _feature_model(spec, spec.create_schema, "Feature")
    collection_body = create_model(
        f"{spec.model.__name__}FeatureCollection",
        __base__=CollectionEnvelope,
        features=(list[create_body], Field(max_length=BULK_MAX_FEATURES)),  # type: ignore[valid-type]
    )
    create_or_bulk = _feature_or_collection(create_body, collection_body)
    one_feature: TypeAdapter[Any] = TypeAdapter(create_body)
    patch_body = _feature_model(spec, spec.update_schema, "Patch")
    label = spec.label
    entity = spec.entity.value

    # A kind whose own package serves a route (EntitySpec.own_routes) gets no generic one.
    if "create" not in spec.own_routes:

        @router.post(
            "",
            status_code=201,
            response_class=GeoJSONResponse,
            summary=f"Create a {label}, or up to {BULK_MAX_FEATURES} in a FeatureCollection",
            description=(
                "A Feature: creates one object (201), or answers the first one of a repeated "
                "create (200). A FeatureCollection: checks each of its features on its own and "
                "answers 200 with one result per feature, in order (`status` 201, 200 for a "
                "repeat, or the 4xx of its problem). Without an Idempotency-Key the valid "
                "features are created in one transaction (if it fails, none is); with one, "
                "each feature in a transaction of its own. See docs/performance.md#bulk-create."
            ),
            responses={
                200: {
                    "description": "Repeated create: the first object, nothing new; or the "
                    "per-feature results of a FeatureCollection",
                    "content": {GEOJSON: {}, "application/json": {"schema": BULK_RESULT}},
                }
            },
        )
        async def create(
            request: Request,
            session: Session,
            payload: Annotated[create_or_bulk, Body(alias="body")],  # type: ignore[valid-type]
            principal: Annotated[Principal, Depends(require(f"{entity}:create"))],
            crs: Annotated[str, Depends(crs_param)],
            repair: bool = False,
            idempotency_key: Annotated[
                str | None, Header(alias="Idempotency-Key", max_length=200)
            ] = None,
        ) -> Response:
            if isinstance(payload, BulkEnvelope):
                return await create_many(
                    request, session, payload, principal, crs, repair, idempotency_key
                )
            body: FeatureEnvelope = payload
            await check_key_scope(request, principal, entity, body.properties)
            geometry = await _geometry(spec, body.geometry, crs, repair)
            fingerprint = (
                hashlib.sha256(await request.body()).hexdigest() if idempotency_key else None
            )
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

        async def create_many(
            request: Request,
            session: AsyncSession,
            collection: BulkEnvelope,
            principal: Principal,
            crs: str,
            repair: bool,
            idempotency_key: str | None,
        ) -> Response:
            """Every feature through the one write path (docs/performance.md#bulk-create).
            Without an Idempotency-Key, the request is one transaction: the valid features are
            created together by one statement, each refused one is left out with its problem,
            and if the commit fails nothing is created. With a key (or for a kind with work after
            each insert), each feature is a transaction of its own. Either way a retry of the
            whole request (same external_ids, or the same key) creates only what is missing."""
            if len(collection.features) > BULK_MAX_FEATURES:
                raise payload_too_large(
                    f"a FeatureCollection to create holds at most {BULK_MAX_FEATURES} features, "
                    f"this one {len(collection.features)}",
                    max_rows=BULK_MAX_FEATURES,
                )
            actor = principal.as_actor
            outcomes: list[objects.Written | ProblemError | None] = [None] * len(
                collection.features
            )

            async def checked(index: int, raw: Any) -> tuple[FeatureEnvelope, Any]:
                try:
                    body: FeatureEnvelope = one_feature.validate_python(raw)
                except ValidationError as invalid:
                    errors = pydantic_errors(list(invalid.errors()))
                    for e in errors:
                        e["loc"] = ["body", "features", index, *e["loc"]]
                    raise validation_problem(errors) from None
                await check_key_scope(request, principal, entity, body.properties)
                return body, await _geometry(spec, body.geometry, crs, repair)

            if idempotency_key is None and objects.batched(spec):
                items: list[tuple[Any, Any]] = []
                places: list[int] = []
                for index, raw in enumerate(collection.features):
                    try:
                        body, geometry = await checked(index, raw)
                    except ProblemError as problem:
                        outcomes[index] = problem
                        continue
                    items.append((body.properties, geometry))
                    places.append(index)
                created = await objects.create_many(session, spec, items, actor)
                await session.commit()
                for index, outcome in zip(places, created, strict=True):
                    outcomes[index] = outcome
            else:
                # One key per feature, derived from the request's: a retried request finds
                # each feature's first object.
                key_base = hashlib.sha256((idempotency_key or "").encode()).hexdigest()[:40]
                for index, raw in enumerate(collection.features):
                    try:
                        body, geometry = await checked(index, raw)
                        outcomes[index] = await objects.create(
                            session,
                            spec,
                            body.properties,
                            geometry,
                            actor,
                            idempotency_key=f"bulk:{key_base}#{index}" if idempotency_key else None,
                            fingerprint=hashlib.sha256(orjson.dumps(raw)).hexdigest(),
                        )
                        await session.commit()
                    except ProblemError as problem:
                        await session.rollback()
                        outcomes[index] = problem
            return json_response(_bulk_answer(outcomes, crs))

    @router.get("", summary=f"List {spec.path}", response_class=GeoJSONResponse)
    async def list_(
        request: Request,
        session: Session,
        principal: Annotated[Principal, Depends(require(f"{entity}:read"))],
        crs: Annotated[str, Depends(crs_param)],
        f: Annotated[ListFilter, Depends(filter_query(spec))],
        at: Annotated[str | None, time_query("time travel: the picture as it stood then")] = None,
        limit: Annotated[
            int, Query(ge=1, le=settings.page_limit_max)
        ] = settings.page_limit_default,
        cursor: Annotated[str | None, uuid_query("the page to read, as a next link gives")] = None,
    ) -> Response:
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

    @router.get(f"/{OBJECT_ID}", summary=f"Read a {label}", response_class=GeoJSONResponse)
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

    @router.get(f"/{OBJECT_ID}/history", summary=f"Every change of a {label}, oldest first")
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

    if spec.append_only:
        return router  # written once: no PATCH, no DELETE (app.domain.spec)

    @router.patch(
        f"/{OBJECT_ID}",
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

    if "delete" not in spec.own_routes:

        @router.delete(
            f"/{OBJECT_ID}", status_code=204, summary=f"Delete a wrongly created {label} (admin)"
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

    return router
