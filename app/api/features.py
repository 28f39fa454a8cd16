"""OGC API – Features Part 1 (core, GeoJSON) for GIS clients: QGIS, GDAL's OAPIF driver, ArcGIS.

The picture's collections read as OGC feature collections under /api/features, with the same
permission table, partner scoping and filters as the REST lists (app/api/objects.py): this is
another reading of them, not another store. Differences the standard asks for:
- a bad query parameter, or one the API does not define, answers 400 (not 422);
- `limit` above the maximum is lowered to it rather than refused;
- `datetime` (an instant or an interval, open ends as `..`) replaces `start`/`end`.

Requests are authenticated like every other: GDAL sends a header with
`GDAL_HTTP_HEADERS="Authorization: Bearer …"` (or `X-API-Key: …`), QGIS with an
"API header" or OAuth2 authentication configuration.

The items are read on the read database (SITCEN_READ_DATABASE_URL, app.api.deps.ReadSession)
when there is one: a GIS client polls, and does not need the write it did not make a second
ago. The caller is still authenticated on the primary, and scoped the same way.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.api.deps import (
    Q_MAX_LENGTH,
    ReadSession,
    bbox_param,
    crs_param,
    finite_number,
    list_filter,
    parse_time,
    parse_uuid,
    require,
)
from app.api.responses import (
    GEOJSON,
    GeoJSONResponse,
    feature_response,
    geojson_response,
    json_response,
)
from app.api.routing import Route
from app.auth.permissions import may, read_scope
from app.auth.principal import Principal
from app.domain import objects
from app.domain.enums import Severity
from app.domain.features import to_feature
from app.domain.registry import SPECS
from app.domain.schema import TIME_RANGE
from app.domain.spec import EntitySpec
from app.errors import ProblemError, not_found, validation_problem
from app.geo.crs import CRS_NAMES, OGC_URI, SUPPORTED, WGS84
from app.geo.reference import layer_features
from app.geo.validation import BELGIUM_BOUNDS
from app.settings import Settings

PREFIX = "/api/features"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.1"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)
# The items' query parameters: the standard's, then the REST lists' filters (an OGC server may
# add filters on properties), `crs` (EPSG:31370/3812 as on every read) and the page cursor.
ITEM_PARAMS = frozenset(
    {"limit", "bbox", "bbox-crs", "datetime", "crs", "f"}
    | {"status", "category", "kind", "severity", "municipality", "police_zone", "q", "exercise"}
    | {"subject", "activation", "zone"}
    | {"cursor"}
)
TITLES = {
    "incidents": ("Incidents", "Incidents reported on the region's territory"),
    "events": ("Planned events", "Planned events: gatherings, visits, matches, works"),
    "demonstrations": ("Demonstrations", "Demonstrations, as an assembly point or a route"),
    "zones": ("Zones", "Perimeters, red zones, drone bans, restrictions, routes, posts, hotspots"),
    "activations": ("GCC activations", "Activations of the Regional Crisis Centre"),
    "logbook": ("Logbook", "Logbook entries: decisions, actions, information"),
    "positions": ("Cell positions", "The seats of GCC crisis cells, their holders and presence"),
    "tasks": ("Cell tasks", "Actions of GCC crisis cells: owner, due time, priority, status"),
    "decisions": ("Decisions", "Decisions of GCC activations: who decided, on what basis, when"),
    "plans": ("Emergency plans", "General, special, intervention and internal emergency plans"),
    "checklists": ("Checklists", "Standard procedures run for an incident, event or activation"),
    "fiches": ("Operational fiches", "Each entity's role, contacts, zones and times for an event"),
    "documents": ("Documents", "Files attached to operational objects (the Casus library)"),
    "sitreps": ("Situation reports", "SITREPs: numbered per activation, approved, then frozen"),
    "police_measures": (
        "Police measures",
        "Orders and bans on places, their legal basis and validity",
    ),
    "hotspot_notes": ("Hotspot evaluation notes", "Drug hotspots' evaluations: date, author, text"),
    "threat_levels": (
        "Threat levels",
        "OCAM/CUTA's national threat level and sector levels: each setting, why, its reference",
    ),
    "conflict_records": (
        "Planning conflicts",
        "Overlaps in space and time of events, demonstrations and zones, as recorded",
    ),
    "region": ("Region", "The Brussels-Capital Region's outline (UrbIS)"),
    "municipalities": ("Municipalities", "The 19 municipalities, NIS code and FR/NL names"),
    "police_zones": ("Police zones", "The 6 police zones"),
    "landmarks": ("Landmarks", "Places the dashboard's search knows"),
}
# The reference layers (app/geo/reference.py) by collection id. They are standing features:
# every `datetime` meets them.
REFERENCE = {
    "region": "region",
    "municipalities": "municipality",
    "police_zones": "police_zone",
    "landmarks": "landmark",
}
REFERENCE_PARAMS = frozenset({"limit", "bbox", "bbox-crs", "datetime", "crs", "f", "cursor"})


@contextmanager
def _bad_request() -> Iterator[None]:
    """OGC API asks 400 for an invalid query parameter where the REST API answers 422."""
    try:
        yield
    except ProblemError as e:
        if e.status == 422:
            e.status = 400  # the same problem type; only the status the standard asks differs
        raise


def _refuse(name: str, msg: str) -> ProblemError:
    return validation_problem([{"loc": ["query", name], "msg": msg}], status=400)


def _param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": False,
    }


def _values(values: Any) -> dict[str, Any]:
    one = "(?:" + "|".join(sorted(v.value for v in values)) + ")"
    return {"type": "string", "pattern": f"^{one}(?:,{one})*$"}


def _item_parameters(settings: Settings, spec: EntitySpec | None = None) -> list[dict[str, Any]]:
    """The items' parameters for the API definition: the route reads the query string itself,
    to answer 400 to what is wrong or unknown, so FastAPI cannot infer them. With `spec`, the
    list filters say the values its collection takes (and are left out where it has none)."""
    text = {"type": "string"}
    crs = {"type": "string", "enum": list(CRS_NAMES)}
    uuid_ = {"type": "string", "format": "uuid"}
    statuses = spec.status_enum if spec else None
    kinds = spec.kind_enum if spec else None
    filters = [
        _param("status", "comma-separated statuses", _values(statuses)) if statuses else None,
        _param("category", "comma-separated categories (kinds)", _values(kinds)) if kinds else None,
        _param("kind", "comma-separated kinds", _values(kinds)) if kinds else None,
    ]
    return [
        _param(
            "limit",
            f"features per page; above {settings.page_limit_max}, {settings.page_limit_max}",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": settings.page_limit_max,
                "default": settings.page_limit_default,
            },
        ),
        _param(
            "bbox",
            "minx,miny,maxx,maxy in WGS 84 lon/lat (or in bbox-crs); a 3D box's heights "
            "(minx,miny,minz,maxx,maxy,maxz) are ignored",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        ),
        _param("bbox-crs", "CRS of bbox: CRS84 (default), EPSG:31370 or EPSG:3812", crs),
        _param(
            "datetime",
            "an instant or an interval (start/end, `..` for an open end), RFC 3339 times with "
            f"a timezone, {TIME_RANGE}; keeps the features whose validity window meets it",
            text,
        ),
        _param("crs", "CRS of the answer: CRS84 (default), EPSG:31370 or EPSG:3812", crs),
        *(f for f in filters if f is not None),
        _param("severity", "comma-separated severities (incidents)", _values(Severity)),
        _param("municipality", "comma-separated NIS codes, e.g. 21004", text),
        _param("police_zone", "comma-separated police zone numbers, e.g. 5339", text),
        _param(
            "q", "text in the title, description or reference", {**text, "maxLength": Q_MAX_LENGTH}
        ),
        _param("exercise", "true: exercises only; false: real objects only", {"type": "boolean"}),
        _param("subject", "the id of the object a logbook entry or zone belongs to", uuid_),
        _param("activation", "the id of the GCC activation a cell's object belongs to", uuid_),
        _param("zone", "the id of a zone: the objects linked to it (its plans)", uuid_),
        _param("cursor", "the page to read, as given by a next link", uuid_ if spec else text),
        _param(
            "f", "json or geojson (the only encoding served)", {**text, "enum": ["json", "geojson"]}
        ),
    ]


def _datetime(value: str | None) -> tuple[datetime | None, datetime | None]:
    """`datetime`: an instant, or `start/end` with `..` (or nothing) for an open end."""
    if value is None:
        return None, None
    if "/" not in value:
        instant = parse_time(value, "datetime")
        return instant, instant
    first, _, second = value.partition("/")
    start = None if first in ("", "..") else parse_time(first, "datetime")
    end = None if second in ("", "..") else parse_time(second, "datetime")
    if start is None and end is None:
        raise _refuse("datetime", "an interval needs at least one end")
    if start is not None and end is not None and end < start:
        raise _refuse("datetime", "the interval ends before it starts")
    return start, end


def _flat_bbox(value: str | None) -> str | None:
    """OGC API lets a client send a 3D box; the picture is flat, so its heights are dropped
    (once checked: they are numbers too)."""
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) != 6:
        return value
    if any(finite_number(height) is None for height in (parts[2], parts[5])):
        raise _refuse("bbox", "expected 4 or 6 finite numbers")
    return ",".join(parts[:2] + parts[3:5])


def _limit(value: str | None, settings: Settings) -> int:
    if value is None:
        return settings.page_limit_default
    try:
        limit = int(value)
    except ValueError:
        raise _refuse("limit", "an integer from 1") from None
    if limit < 1:
        raise _refuse("limit", "an integer from 1")
    return min(limit, settings.page_limit_max)  # above the maximum: the maximum (OGC 17-069r4)


async def _standard_params(
    request: Request, known: frozenset[str], settings: Settings
) -> tuple[str, tuple[float, float, float, float] | None, tuple[Any, Any], int]:
    """The parameters every items request takes, checked: crs, bbox (and bbox-crs), the
    datetime as (start, end), limit; and no parameter outside `known`."""
    _check_params(request, known)
    query = request.query_params
    with _bad_request():
        crs = await crs_param(query.get("crs"))
        bbox = await bbox_param(_flat_bbox(query.get("bbox")), query.get("bbox-crs"))
        window = _datetime(query.get("datetime"))
    return crs, bbox, window, _limit(query.get("limit"), settings)


async def _answer_crs(request: Request) -> str:
    """One feature's request: the CRS it is to be answered in, and no other parameter."""
    _check_params(request, frozenset({"crs", "f"}))
    with _bad_request():
        return await crs_param(request.query_params.get("crs"))


def _check_params(request: Request, known: frozenset[str]) -> None:
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise validation_problem(
            [{"loc": ["query", name], "msg": "not a parameter of this API"} for name in unknown],
            f"unknown query parameter(s): {', '.join(unknown)}",
            status=400,
        )
    f = request.query_params.get("f")
    if f is not None and f not in ("json", "geojson"):
        raise _refuse("f", "only json or geojson is served")


def _url(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def _collection(request: Request, collection_id: str) -> dict[str, Any]:
    title, description = TITLES[collection_id]
    base = _url(request, f"{PREFIX}/collections/{collection_id}")
    return {
        "id": collection_id,
        "title": title,
        "description": description,
        "itemType": "feature",
        "links": [
            {"rel": "self", "type": JSON, "title": "this collection", "href": base},
            {
                "rel": "items",
                "type": GEOJSON,
                "title": f"{title} as GeoJSON",
                "href": f"{base}/items",
            },
            *_downloads(request, collection_id),
            *_tiles(request, collection_id),
        ],
        "extent": {
            # What the API accepts: Belgium's bounds, not only the region's (DESIGN §5).
            "spatial": {"bbox": [list(BELGIUM_BOUNDS)], "crs": OGC_URI[WGS84]},
            "temporal": {
                "interval": [[None, None]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            },
        },
        "crs": [OGC_URI[c] for c in SUPPORTED],
        "storageCrs": OGC_URI[WGS84],
    }


# The whole collection as one file (GeoJSON, CSV or KML), streamed: the exports (app/exchange),
# offered as OGC's `enclosure` links; the reference layers have none.
EXPORTS = "/api/exports"
DOWNLOADS = {
    "geojson": (GEOJSON, "GeoJSON"),
    "csv": ("text/csv", "CSV"),
    "kml": ("application/vnd.google-earth.kml+xml", "KML"),
}


def _downloads(request: Request, collection_id: str) -> list[dict[str, str]]:
    if collection_id in REFERENCE:
        return []
    return [
        {
            "rel": "enclosure",
            "type": media,
            "title": f"{TITLES[collection_id][0]}: the whole collection as {name}",
            "href": _url(request, f"{EXPORTS}/{collection_id}?format={fmt}"),
        }
        for fmt, (media, name) in DOWNLOADS.items()
    ]


# The map's layers as vector tiles (app/api/tiles.py), described by TileJSON 3.0.0 for QGIS and
# MapLibre; a plain `tiles` link, as the service offers no OGC API – Tiles tileset metadata.
TILES = "/api/tiles"
TILED = ("incidents", "events", "demonstrations", "zones", "activations")


def _tiles(request: Request, collection_id: str) -> list[dict[str, str]]:
    if collection_id not in TILED:
        return []
    return [
        {
            "rel": "tiles",
            "type": JSON,
            "title": f"{TITLES[collection_id][0]} as vector tiles (TileJSON 3.0.0)",
            "href": _url(request, f"{TILES}/{collection_id}/tilejson.json"),
        }
    ]


def _item_links(request: Request, collection_id: str) -> list[dict[str, str]]:
    return [
        {"rel": "self", "type": GEOJSON, "href": str(request.url)},
        {
            "rel": "collection",
            "type": JSON,
            "href": _url(request, f"{PREFIX}/collections/{collection_id}"),
        },
    ]


def _collection_page(
    request: Request, collection_id: str, features: list[dict[str, Any]], more: bool, crs: str
) -> Response:
    """A page of items: its links (the next one while more remain, its cursor the last id)."""
    links = _item_links(request, collection_id)
    if more:
        href = str(request.url.include_query_params(cursor=features[-1]["id"]))
        links.append({"rel": "next", "type": GEOJSON, "title": "next page", "href": href})
    return geojson_response(
        {
            "type": "FeatureCollection",
            "features": features,
            "links": links,
            "timeStamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "numberReturned": len(features),
        },
        crs=crs,
    )


def _readable(principal: Principal) -> list[EntitySpec]:
    return [s for s in SPECS if may(principal, f"{s.entity.value}:read")]


def _service_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["OGC API – Features"], route_class=Route)
    reader = Depends(require("reference:read"))  # every role: what it may read is listed

    @router.get("", summary="Landing page")
    async def landing(request: Request, _: Annotated[Principal, reader]) -> Response:
        _check_params(request, frozenset({"f"}))
        return json_response(
            {
                "title": "sitcen: the operational picture of the Brussels-Capital Region",
                "description": "Incidents, planned events, demonstrations, zones, GCC "
                "activations and logbook entries, as OGC API – Features collections.",
                "links": [
                    {"rel": "self", "type": JSON, "href": _url(request, PREFIX)},
                    {
                        "rel": "service-desc",
                        "type": OPENAPI,
                        "title": "the API definition",
                        "href": _url(request, "/api/openapi.json"),
                    },
                    {
                        "rel": "service-doc",
                        "type": "text/html",
                        "title": "the API documentation",
                        "href": _url(request, "/api/docs"),
                    },
                    {
                        "rel": "conformance",
                        "type": JSON,
                        "title": "conformance classes",
                        "href": _url(request, f"{PREFIX}/conformance"),
                    },
                    {
                        "rel": "data",
                        "type": JSON,
                        "title": "the collections",
                        "href": _url(request, f"{PREFIX}/collections"),
                    },
                    {
                        "rel": "tiles",
                        "type": JSON,
                        "title": "the map's layers as vector tiles: each one's TileJSON 3.0.0",
                        "href": _url(request, TILES),
                    },
                ],
            }
        )

    @router.get("/conformance", summary="Conformance classes")
    async def conformance(request: Request, _: Annotated[Principal, reader]) -> Response:
        _check_params(request, frozenset({"f"}))
        return json_response({"conformsTo": list(CONFORMANCE)})

    @router.get("/collections", summary="The collections this caller may read")
    async def collections(request: Request, principal: Annotated[Principal, reader]) -> Response:
        _check_params(request, frozenset({"f"}))
        return json_response(
            {
                "links": [
                    {"rel": "self", "type": JSON, "href": _url(request, f"{PREFIX}/collections")}
                ],
                "collections": [
                    *(_collection(request, s.path) for s in _readable(principal)),
                    *(_collection(request, c) for c in REFERENCE),
                ],
            }
        )

    return router


def _collection_base(collection_id: str, reader: Any) -> APIRouter:
    """A collection's router, holding the route that describes it."""
    router = APIRouter(
        prefix=f"{PREFIX}/collections/{collection_id}",
        tags=["OGC API – Features"],
        route_class=Route,
    )

    @router.get("", summary=f"{TITLES[collection_id][0]}: collection")
    async def collection(request: Request, _: Annotated[Principal, reader]) -> Response:
        _check_params(request, frozenset({"f"}))
        return json_response(_collection(request, collection_id))

    return router


def _collection_router(spec: EntitySpec, settings: Settings) -> APIRouter:
    reader = Depends(require(f"{spec.entity.value}:read"))
    router = _collection_base(spec.path, reader)
    title = TITLES[spec.path][0]

    @router.get(
        "/items",
        response_class=GeoJSONResponse,
        summary=f"{title}: features, newest first",
        openapi_extra={"parameters": _item_parameters(settings, spec)},
    )
    async def items(
        request: Request, session: ReadSession, principal: Annotated[Principal, reader]
    ) -> Response:
        crs, bbox, (start, end), limit = await _standard_params(request, ITEM_PARAMS, settings)
        query = request.query_params
        with _bad_request():
            q = query.get("q")
            if q is not None and len(q) > Q_MAX_LENGTH:
                raise _refuse("q", f"at most {Q_MAX_LENGTH} characters")
            exercise = query.get("exercise")
            if exercise not in (None, "true", "false"):
                raise _refuse("exercise", "true or false")
            f = list_filter(
                spec,
                bbox=bbox,
                start=start,
                end=end,
                status=query.get("status"),
                category=query.get("category"),
                kind=query.get("kind"),
                severity=query.get("severity"),
                municipality=query.get("municipality"),
                police_zone=query.get("police_zone"),
                q=q,
                exercise=None if exercise is None else exercise == "true",
                subject=query.get("subject"),
                activation=query.get("activation"),
                zone=query.get("zone"),
            )
            cursor = query.get("cursor")
            try:
                after = uuid.UUID(cursor) if cursor else None
            except ValueError:
                raise _refuse("cursor", "the cursor of a next link") from None
        features, more = await objects.page(
            session, spec, f, read_scope(principal, spec.model), limit, after, crs
        )
        return _collection_page(request, spec.path, features, more, crs)

    @router.get(
        "/items/{feature_id}",
        response_class=GeoJSONResponse,
        summary=f"{title}: one feature",
        openapi_extra={
            "parameters": [p for p in _item_parameters(settings) if p["name"] in ("crs", "f")]
        },
    )
    async def item(
        request: Request,
        session: ReadSession,
        feature_id: str,
        principal: Annotated[Principal, reader],
    ) -> Response:
        crs = await _answer_crs(request)
        row = await objects.get(
            session, spec, parse_uuid(feature_id), read_scope(principal, spec.model)
        )
        links = _item_links(request, spec.path)
        return feature_response({**to_feature(spec, row, crs), "links": links}, crs=crs)

    return router


def _reference_router(collection_id: str, settings: Settings) -> APIRouter:
    reader = Depends(require("reference:read"))
    router = _collection_base(collection_id, reader)
    layer = REFERENCE[collection_id]
    title = TITLES[collection_id][0]
    parameters = [p for p in _item_parameters(settings) if p["name"] in REFERENCE_PARAMS]

    @router.get(
        "/items",
        response_class=GeoJSONResponse,
        summary=f"{title}: features, by code",
        openapi_extra={"parameters": parameters},
    )
    async def items(
        request: Request, session: ReadSession, _: Annotated[Principal, reader]
    ) -> Response:
        # The datetime is checked, and met: reference features stand at every time.
        crs, bbox, _window, limit = await _standard_params(request, REFERENCE_PARAMS, settings)
        cursor = request.query_params.get("cursor")
        features = await layer_features(
            session, layer, bbox=bbox, after=cursor, limit=limit + 1, crs=crs
        )
        more = len(features) > limit
        return _collection_page(request, collection_id, features[:limit], more, crs)

    @router.get(
        "/items/{code}",
        response_class=GeoJSONResponse,
        summary=f"{title}: one feature",
        openapi_extra={"parameters": [p for p in parameters if p["name"] in ("crs", "f")]},
    )
    async def item(
        request: Request, session: ReadSession, code: str, _: Annotated[Principal, reader]
    ) -> Response:
        crs = await _answer_crs(request)
        found = await layer_features(session, layer, code=code, crs=crs)
        if not found:
            raise not_found(layer, detail=f"no {layer} {code!r}")
        feature = {**found[0], "links": _item_links(request, collection_id)}
        return geojson_response(feature, crs=crs)

    return router


def routers(settings: Settings) -> list[APIRouter]:
    return [
        _service_router(),
        *(_collection_router(s, settings) for s in SPECS),
        *(_reference_router(c, settings) for c in REFERENCE),
    ]
