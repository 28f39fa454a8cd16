"""SITREPs beyond the generic router (/api/sitreps: list, read, history, PATCH of a draft):
generating a draft from the picture at a time, deleting a draft, approving, the reader's part as
JSON, HTML (print stylesheet), PDF and SVG map in the reader's language, sending to partners
and following their acknowledgements."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request
from starlette.responses import HTMLResponse, Response

from app.api.deps import IfMatch, ReaderLanguage, Session, if_match, parse_uuid, require, runtime_of
from app.api.objects import FeatureEnvelope
from app.api.responses import GeoJSONResponse, feature_response, json_response
from app.api.routing import Route
from app.auth.permissions import read_scope, scope_of
from app.auth.principal import Principal
from app.clock import utcnow
from app.domain import objects
from app.domain.features import to_feature
from app.domain.sitrep import SPEC, Sitrep, SitrepDraft
from app.reports import sitrep, sitrep_print, sitrep_send

router = APIRouter(prefix="/api/sitreps", tags=["sitreps"], route_class=Route)


class DraftEnvelope(FeatureEnvelope):
    """A Feature (no geometry: the map is drawn from the objects) asking for a new SITREP."""

    type: Literal["Feature"]
    properties: SitrepDraft


@router.post(
    "",
    status_code=201,
    response_class=GeoJSONResponse,
    summary="Generate a draft SITREP: the next of its activation's series (or the daily one)",
)
async def generate(
    session: Session,
    body: Annotated[DraftEnvelope, Body()],
    principal: Annotated[Principal, Depends(require("sitrep:create"))],
) -> Response:
    written = await sitrep.generate(session, principal.as_actor, body.properties, utcnow())
    await session.commit()
    return feature_response(written.feature, 201, location=f"/api/sitreps/{written.id}")


@router.delete("/{object_id}", status_code=204, summary="Delete a draft SITREP made in error")
async def delete(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("sitrep:delete"))],
    if_match_header: IfMatch = None,
) -> Response:
    await sitrep.delete_draft(
        session,
        principal.as_actor,
        parse_uuid(object_id),
        if_match(if_match_header, required=False),
    )
    await session.commit()
    return Response(status_code=204)


@router.post(
    "/{object_id}/approve",
    response_class=GeoJSONResponse,
    summary="Approve the draft as it stands (coordinator, High Official): then it is frozen",
    responses={409: {"description": "Already approved: by whom, when"}},
)
async def approve(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("sitrep:approve"))],
    if_match_header: IfMatch = None,
) -> Response:
    written = await sitrep.approve(
        session,
        principal.as_actor,
        parse_uuid(object_id),
        if_match(if_match_header, required=False),
        read_scope(principal, Sitrep),
        utcnow(),
    )
    await session.commit()
    return feature_response(written.feature)


async def _view(session: Session, object_id: str, principal: Principal) -> sitrep.View:
    row = await objects.get(session, SPEC, parse_uuid(object_id), read_scope(principal, Sitrep))
    content = await sitrep.stored_picture(session, row.id)
    scope = scope_of(principal)
    return sitrep.cut(
        to_feature(SPEC, row), content, scope, principal.organisation if scope.partner else None
    )


async def _printable(
    session: Session, object_id: str, principal: Principal
) -> tuple[sitrep.View, dict[str, list[dict[str, Any]]]]:
    """What drawing or printing a SITREP needs, read before the session is given back: the
    drawing takes a while, and not while holding a connection."""
    view = await _view(session, object_id, principal)
    ref_layers = await sitrep_print.reference(session)
    await session.close()
    return view, ref_layers


@router.get("/{object_id}/content", summary="The SITREP as this reader may see it (JSON)")
async def content(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("sitrep:read"))],
) -> Response:
    return json_response(sitrep.as_json(await _view(session, object_id, principal)))


@router.get(
    "/{object_id}/html", summary="The SITREP to read or print (HTML)", response_class=HTMLResponse
)
async def html(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("sitrep:read"))],
    language: ReaderLanguage,
) -> Response:
    view, ref_layers = await _printable(session, object_id, principal)
    return HTMLResponse(await sitrep_print.render_html(view, language, ref_layers))


@router.get(
    "/{object_id}/pdf",
    summary="The SITREP as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def pdf(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("sitrep:read"))],
    language: ReaderLanguage,
) -> Response:
    view, ref_layers = await _printable(session, object_id, principal)
    document = await sitrep_print.render_pdf(view, language, ref_layers)
    name = f"{view.feature['properties']['ref']}-{language.value}.pdf"
    return Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get(
    "/{object_id}/map",
    summary="The SITREP's map (SVG)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def svg_map(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("sitrep:read"))],
    language: ReaderLanguage,
) -> Response:
    view, ref_layers = await _printable(session, object_id, principal)
    drawn = await sitrep_print.render_map(view, language, ref_layers)
    return Response(drawn, media_type="image/svg+xml")


@router.post(
    "/{object_id}/send", status_code=201, summary="Send the approved SITREP to its partners"
)
async def send(
    request: Request,
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("sitrep:send"))],
) -> Response:
    runtime = runtime_of(request)
    created = await sitrep_send.send(
        session,
        principal.as_actor,
        parse_uuid(object_id),
        read_scope(principal, Sitrep),
        runtime.alert_settings,
        utcnow(),
    )
    await session.commit()
    return json_response(
        {
            "alert": str(created.alert.id),
            "ref": created.alert.ref,
            "organisations": [r.organisation for r in created.recipients],
        },
        201,
    )


@router.get("/{object_id}/sent", summary="When the SITREP was sent, to whom, who acknowledged")
async def sent(
    session: Session,
    object_id: str,
    principal: Annotated[Principal, Depends(require("sitrep:read"))],
) -> Response:
    row = await objects.get(session, SPEC, parse_uuid(object_id), read_scope(principal, Sitrep))
    return json_response(
        {"sendings": await sitrep_send.sendings(session, row.id, scope_of(principal))}
    )
