"""Reports from the field (app/documents/field.py): the photo as the raw body (as the document
library's uploads), the note and the position in the query string."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import JSONResponse

from app.api.deps import RuntimeDep, Session, require
from app.api.routing import Route
from app.auth.principal import Principal
from app.documents import field
from app.domain.enums import IncidentCategory
from app.errors import payload_too_large, validation_problem

router = APIRouter(prefix="/api/field-reports", tags=["documents"], route_class=Route)

PHOTO_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "description": "The photo's bytes (JPEG, PNG or WebP, read from them), or nothing",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "",
    status_code=201,
    summary="Report from the field: an incident for the watch to confirm, with a photo",
    openapi_extra=PHOTO_BODY,
    responses={
        413: {"description": "The photo is over SITCEN_DOCUMENT_PHOTO_MAX_BYTES; nothing kept"},
        415: {"description": "The body is not a JPEG, PNG or WebP photo; nothing kept"},
    },
)
async def create(
    request: Request,
    session: Session,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require("field_report:create"))],
    note: Annotated[str, Query(min_length=1, max_length=2000, description="what one sees")],
    lon: Annotated[float, Query(ge=-180, le=180, description="WGS 84 longitude")],
    lat: Annotated[float, Query(ge=-90, le=90, description="WGS 84 latitude")],
    category: IncidentCategory = IncidentCategory.other,
    accuracy: Annotated[float | None, Query(ge=0, le=100_000, description="metres")] = None,
    filename: Annotated[
        str | None, Query(min_length=1, max_length=255, description="the photo's name")
    ] = None,
) -> JSONResponse:
    if not note.strip():
        raise validation_problem([{"loc": ["query", "note"], "msg": "must not be blank"}])
    settings = runtime.document_settings
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > settings.photo_max_bytes:
        raise payload_too_large(
            f"the photo exceeds the limit of {settings.photo_max_bytes} bytes "
            "(SITCEN_DOCUMENT_PHOTO_MAX_BYTES); nothing was recorded",
            max_bytes=settings.photo_max_bytes,
        )
    photo = await field.read_photo(request.stream(), settings.photo_max_bytes)
    report = field.FieldReport(
        note=note.strip(),
        lon=lon,
        lat=lat,
        category=category,
        accuracy_m=accuracy,
        filename=filename,
    )
    incident, document = await field.report(
        session, runtime.document_store, settings, report, photo, principal.as_actor
    )
    await session.commit()
    return JSONResponse(
        {"incident": incident.feature, "document": document.feature if document else None},
        status_code=201,
        headers={"Location": f"/api/incidents/{incident.id}"},
    )
