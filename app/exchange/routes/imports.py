"""POST /api/imports/{collection}: a GeoJSON FeatureCollection or a CSV file (the export's
columns) imported into a collection, or checked only (`?dry_run=true`).

No `from __future__ import annotations` here, as in the other per-collection routers."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app import cpu
from app.api.deps import Session, check_key_scope, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.domain import changes
from app.domain.registry import SPECS
from app.domain.schema import Props, Source
from app.domain.spec import EntitySpec
from app.errors import import_refused, payload_too_large, validation_problem
from app.exchange import csvrows
from app.exchange.formats import IMPORTED, Format
from app.exchange.importing import Importer, problems_of
from app.exchange.rows import parse_geojson
from app.exchange.settings import get_exchange_settings

PREFIX = "/api/imports"
FILE_TYPES: dict[str, Format] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/geo+json": "geojson",
    "application/json": "geojson",
}


def _format(asked: Format | None, content_type: str | None) -> Format:
    found = asked or FILE_TYPES.get((content_type or "").split(";")[0].strip().lower())
    if found is None or found not in IMPORTED:
        raise validation_problem(
            [
                {
                    "loc": ["query", "format"],
                    "msg": "say what the file is: ?format=csv or ?format=geojson, or "
                    "Content-Type text/csv or application/geo+json (KML is exported only)",
                }
            ]
        )
    return found


def _router(spec: EntitySpec) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["exports and imports"], route_class=Route)
    settings = get_exchange_settings()
    entity = spec.entity.value

    @router.post(
        f"/{spec.path}",
        summary=f"Import {spec.path} from GeoJSON or CSV (dry run: check only)",
        responses={
            413: {"description": "The file is over SITCEN_IMPORT_MAX_BYTES or _MAX_ROWS"},
            422: {"description": "Rows refused (each named by row and field): nothing written"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/geo+json": {"schema": {"type": "object"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        },
    )
    async def import_(
        request: Request,
        session: Session,
        principal: Annotated[Principal, Depends(require(f"{entity}:import"))],
        dry_run: Annotated[
            bool, Query(description="true: check every row and report; write nothing")
        ] = False,
        format: Annotated[
            Format | None,
            Query(description="csv or geojson; unset: as Content-Type says"),
        ] = None,
        source: Annotated[
            Source | None, Query(description="the source of rows that name none")
        ] = None,
        repair: Annotated[
            bool, Query(description="repair invalid polygons (and say so) instead of refusing")
        ] = False,
    ) -> Response:
        await check_key_scope(request, principal, entity, Props())
        fmt = _format(format, request.headers.get("content-type"))
        data = await request.body()
        if len(data) > settings.import_max_bytes:
            raise payload_too_large(
                f"the file exceeds {settings.import_max_bytes} bytes (SITCEN_IMPORT_MAX_BYTES)",
                max_bytes=settings.import_max_bytes,
            )
        parse = csvrows.parse if fmt == "csv" else parse_geojson
        rows = await cpu.run(parse, spec, data, settings.import_max_rows)
        importer = Importer(session, spec, principal, source=source, repair=repair)
        report = await importer.run(rows, dry_run=dry_run)
        body = {**report.as_json(), "format": fmt, "head": await changes.head(session)}
        if report.refused and not dry_run:
            refused = len(report.refused)
            raise import_refused(
                f"{refused} of {len(rows)} rows refused: nothing was imported",
                problems_of(report),
                body,
            )
        return json_response(body)

    return router


ROUTERS = tuple(_router(spec) for spec in SPECS if "create" not in spec.own_routes)
