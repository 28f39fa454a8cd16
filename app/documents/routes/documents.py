"""Uploading and downloading documents' files, streamed both ways.

An upload is the file itself as the request body (any Content-Type: it is sniffed, not
believed), with what describes it in the query string. Not multipart: Starlette's form parser
spools a large part to a temporary file before the endpoint runs, so a 200 MB upload would be
written to the server's disk and then read again; a raw body reaches the store a chunk at a
time as it arrives, and a refusal (type, size) comes after the first chunk, not the whole file.
Browsers send a File as a raw body with fetch() just as easily."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import Response, StreamingResponse

from app.api.deps import (
    IfMatch,
    RuntimeDep,
    Session,
    check_key_scope,
    if_match,
    parse_uuid,
    require,
)
from app.api.responses import GeoJSONResponse, feature_response
from app.api.routing import Route
from app.audit import AuditKind
from app.auth.permissions import read_scope
from app.auth.principal import Principal
from app.documents import service
from app.documents.intake import ALLOWED
from app.documents.settings import DocumentSettings
from app.domain.document import SPEC, Filename
from app.domain.schema import Props, Text, Title
from app.errors import payload_too_large

router = APIRouter(prefix="/api/documents", tags=["documents"], route_class=Route)

FILE_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes (its type is read from them)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}

BINARY = {"schema": {"type": "string", "format": "binary"}}
FILE_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, with the type sniffed when it was uploaded",
        "content": {media_type: BINARY for media_type in ALLOWED},
    }
}
PREVIEW_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"description": "A PNG", "content": {"image/png": BINARY}},
    304: {"description": "The preview the client holds (If-None-Match) is current"},
}


def _refuse_announced_excess(request: Request, settings: DocumentSettings) -> None:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > settings.max_bytes:
        raise payload_too_large(
            f"the file exceeds the library's limit of {settings.max_bytes} bytes "
            "(SITCEN_DOCUMENT_MAX_BYTES); nothing was stored",
            max_bytes=settings.max_bytes,
        )


def disposition(kind: str, filename: str) -> str:
    """Content-Disposition with the name in UTF-8 (RFC 6266 filename*, RFC 8187) and a plain
    ASCII fallback for the clients that read only `filename`."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.post(
    "",
    status_code=201,
    response_class=GeoJSONResponse,
    summary="Upload a document onto an object (the file as the body)",
    openapi_extra=FILE_BODY,
    responses={
        413: {"description": "Over SITCEN_DOCUMENT_MAX_BYTES; nothing stored"},
        415: {"description": "A type the library does not take; nothing stored"},
    },
)
async def upload(
    request: Request,
    session: Session,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require("document:create"))],
    subject_entity: Annotated[str, Query(max_length=32, description="e.g. incident")],
    subject_id: Annotated[uuid.UUID, Query(description="the id of the object it is attached to")],
    filename: Annotated[Filename, Query(description="the file's name, as people will see it")],
    title: Annotated[Title | None, Query(description="default: the file's name")] = None,
    description: Annotated[Text | None, Query()] = None,
    shareable: Annotated[
        bool, Query(description="seen by the partners who see its subject")
    ] = False,
) -> Response:
    settings = runtime.document_settings
    await check_key_scope(request, principal, SPEC.entity.value, Props())
    _refuse_announced_excess(request, settings)
    meta = service.Upload(
        subject_entity=subject_entity,
        subject_id=subject_id,
        filename=filename,
        title=title,
        description=description,
        shareable=shareable,
    )
    written = await service.upload(
        session, runtime.document_store, settings, meta, request.stream(), principal.as_actor
    )
    await session.commit()
    return feature_response(written.feature, 201, location=f"/api/documents/{written.id}")


@router.post(
    "/{object_id}/versions",
    status_code=201,
    response_class=GeoJSONResponse,
    summary="Upload a new version of a document's file (If-Match: its version, optional)",
    openapi_extra=FILE_BODY,
)
async def add_version(
    request: Request,
    session: Session,
    runtime: RuntimeDep,
    object_id: str,
    principal: Annotated[Principal, Depends(require("document:update"))],
    filename: Annotated[Filename | None, Query(description="default: the current name")] = None,
    if_match_header: IfMatch = None,
) -> Response:
    oid = parse_uuid(object_id)
    settings = runtime.document_settings
    await check_key_scope(request, principal, SPEC.entity.value, Props())
    _refuse_announced_excess(request, settings)
    written = await service.add_version(
        session,
        runtime.document_store,
        settings,
        oid,
        filename,
        request.stream(),
        if_match(if_match_header, required=False),
        principal.as_actor,
        read_scope(principal, SPEC.model),
    )
    await session.commit()
    return feature_response(written.feature, 201)


def _file_headers(version: dict[str, object], kind: str) -> dict[str, str]:
    # X-Content-Type-Options: nosniff is on every answer (app.middleware.SecurityHeaders): a
    # browser takes the sniffed type given here and no other.
    return {
        "Content-Disposition": disposition(kind, str(version["filename"])),
        "ETag": f'"{version["sha256"]}"',
        # Opened in the browser, the file runs nothing and reaches nothing of the service's.
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, no-cache",
        "X-Document-Version": str(version["version"]),
    }


@router.get(
    "/{object_id}/content",
    summary="Download a document's file (the current version, or ?version=)",
    response_class=Response,
    responses=FILE_ANSWER,
)
async def download(
    session: Session,
    runtime: RuntimeDep,
    object_id: str,
    principal: Annotated[Principal, Depends(require("document:read"))],
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    found = await service.content(
        session,
        parse_uuid(object_id),
        version,
        read_scope(principal, SPEC.model),
        principal.as_actor,
    )
    await session.commit()  # the audit record is kept before a byte leaves
    headers = _file_headers(found.version, "attachment")
    headers["Content-Length"] = str(found.version["size"])
    return StreamingResponse(
        runtime.document_store.get(found.key),
        media_type=str(found.version["content_type"]),
        headers=headers,
    )


@router.get(
    "/{object_id}/preview",
    summary="A small PNG of an image document, or of a PDF's first page",
    response_class=Response,
    responses=PREVIEW_ANSWER,
)
async def preview(
    session: Session,
    runtime: RuntimeDep,
    object_id: str,
    principal: Annotated[Principal, Depends(require("document:read"))],
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match", max_length=200)] = None,
) -> Response:
    settings = runtime.document_settings
    found = await service.content(
        session,
        parse_uuid(object_id),
        version,
        read_scope(principal, SPEC.model),
        principal.as_actor,
        kind=AuditKind.document_preview,
    )
    # A board shows many previews, each costing a read of the file and a rendering: the
    # browser keeps them, and asks again with the tag it has, answered without either.
    headers = {
        "ETag": f'"{found.version["sha256"]}-preview-{settings.preview_pixels}"',
        "Cache-Control": "private, max-age=3600",
    }
    if if_none_match == headers["ETag"]:
        await session.commit()
        return Response(status_code=304, headers=headers)
    image, media_type = await service.make_preview(runtime.document_store, settings, found)
    await session.commit()
    return Response(image, media_type=media_type, headers=headers)


@router.delete(
    "/{object_id}", status_code=204, summary="Delete a wrongly uploaded document and its files"
)
async def delete(
    session: Session,
    runtime: RuntimeDep,
    object_id: str,
    principal: Annotated[Principal, Depends(require("document:delete"))],
    if_match_header: IfMatch = None,
) -> Response:
    await service.remove(
        session,
        runtime.document_store,
        parse_uuid(object_id),
        if_match(if_match_header, required=False),
        principal.as_actor,
    )
    await session.commit()
    return Response(status_code=204)
