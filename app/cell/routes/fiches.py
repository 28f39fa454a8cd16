"""The operational fiche beyond the generic router (/api/fiches): approval, and printing in
the reader's language as HTML (with a print stylesheet) or PDF."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import HTMLResponse, Response

from app.api.deps import IfMatch, ReaderLanguage, Session, if_match, parse_uuid, require
from app.api.responses import GeoJSONResponse, feature_response
from app.api.routing import Route
from app.auth.permissions import read_scope, scope_of
from app.auth.principal import Principal
from app.cell import fiches
from app.domain import objects
from app.domain.enums import Language
from app.domain.features import to_feature
from app.domain.fiche import SPEC, Fiche

router = APIRouter(prefix="/api/fiches", tags=["fiches"], route_class=Route)


@router.post(
    "/{object_id}/approve",
    response_class=GeoJSONResponse,
    summary="Approve the fiche as it stands (coordinator, High Official)",
    responses={409: {"description": "Already approved: by whom, when"}},
)
async def approve(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("fiche:approve"))],
    if_match_header: IfMatch = None,
) -> Response:
    written = await fiches.approve(
        session,
        principal.as_actor,
        parse_uuid(object_id),
        if_match(if_match_header, required=False),
        read_scope(principal, Fiche),
    )
    await session.commit()
    return feature_response(written.feature)


async def _context(
    session: Session, object_id: str, principal: Principal, lang: Language
) -> dict[str, object]:
    row = await objects.get(session, SPEC, parse_uuid(object_id), read_scope(principal, Fiche))
    return await fiches.print_context(session, to_feature(SPEC, row), lang, scope_of(principal))


@router.get("/{object_id}/print", summary="The fiche to print (HTML)", response_class=HTMLResponse)
async def print_html(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("fiche:read"))],
    language: ReaderLanguage,
) -> Response:
    context = await _context(session, object_id, principal, language)
    return HTMLResponse(fiches.render_html(context))


@router.get(
    "/{object_id}/pdf",
    summary="The fiche as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def print_pdf(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("fiche:read"))],
    language: ReaderLanguage,
) -> Response:
    context = await _context(session, object_id, principal, language)
    await session.close()  # the rendering takes a while: not while holding a connection
    pdf = await fiches.render_pdf(context)
    name = f"{context['ref']}-{context['lang']}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
