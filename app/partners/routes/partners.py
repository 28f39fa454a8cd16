"""Partners' SPOCs and channels (webhook, e-mail) with their state. A partner manages its own;
SITCEN coordinators and admins any."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from starlette.responses import Response

from app.api.deps import Session, parse_uuid, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.clock import utcnow
from app.partners import service as partners
from app.partners.access import is_partner, within
from app.partners.models import Channel, Contact, Organisation
from app.partners.schemas import ChannelIn, ChannelPatch, ContactIn, ContactPatch
from app.partners.service import require_organisation

router = APIRouter(prefix="/api/partners", tags=["partners"], route_class=Route)
Reader = Annotated[Principal, Depends(require("partners:read"))]
Manager = Annotated[Principal, Depends(require("partners:manage"))]


@router.get("", summary="Partner organisations with their SPOCs and channels")
async def list_partners(session: Session, principal: Reader) -> Response:
    query = select(Organisation.code).order_by(Organisation.code)
    if is_partner(principal):
        query = query.where(Organisation.code == principal.organisation)
    codes = list((await session.scalars(query)).all())
    return json_response({"partners": [await _partner(session, code) for code in codes]})


async def _partner(session: Session, org: str) -> dict[str, object]:
    return {
        "organisation": org,
        "contacts": [partners.contact_json(c) for c in await partners.contacts(session, org)],
        "channels": [partners.channel_json(c) for c in await partners.channels(session, org)],
    }


@router.get("/{organisation}", summary="One partner: SPOCs, channels and their state")
async def read_partner(session: Session, organisation: str, principal: Reader) -> Response:
    within(principal, organisation)
    await require_organisation(session, organisation)
    return json_response(await _partner(session, organisation))


@router.post("/{organisation}/contacts", status_code=201, summary="Add a SPOC")
async def add_contact(
    session: Session, organisation: str, body: ContactIn, principal: Manager
) -> Response:
    within(principal, organisation)
    contact = await partners.add_contact(session, organisation, body, principal.actor, utcnow())
    await session.commit()
    return json_response(partners.contact_json(contact), 201)


@router.patch("/{organisation}/contacts/{contact_id}", summary="Change a SPOC")
async def change_contact(
    session: Session, organisation: str, contact_id: str, body: ContactPatch, principal: Manager
) -> Response:
    within(principal, organisation)
    contact = await partners.change_contact(
        session, organisation, parse_uuid(contact_id), body, principal.actor, utcnow()
    )
    await session.commit()
    return json_response(partners.contact_json(contact))


@router.delete("/{organisation}/contacts/{contact_id}", status_code=204, summary="Remove a SPOC")
async def remove_contact(
    session: Session, organisation: str, contact_id: str, principal: Manager
) -> Response:
    within(principal, organisation)
    await partners.remove(session, Contact, organisation, parse_uuid(contact_id), "contact")
    await session.commit()
    return Response(status_code=204)


@router.post(
    "/{organisation}/channels",
    status_code=201,
    summary="Add a channel; a webhook's secret is shown in this answer only",
)
async def add_channel(
    session: Session, organisation: str, body: ChannelIn, principal: Manager
) -> Response:
    within(principal, organisation)
    channel = await partners.add_channel(session, organisation, body, principal.actor, utcnow())
    await session.commit()
    return json_response(partners.channel_json(channel, secret=True), 201)


@router.patch("/{organisation}/channels/{channel_id}", summary="Enable, disable or move a channel")
async def change_channel(
    session: Session, organisation: str, channel_id: str, body: ChannelPatch, principal: Manager
) -> Response:
    within(principal, organisation)
    channel = await partners.change_channel(
        session, organisation, parse_uuid(channel_id), body, principal.actor, utcnow()
    )
    await session.commit()
    return json_response(partners.channel_json(channel))


@router.post(
    "/{organisation}/channels/{channel_id}/rotate-secret",
    summary="A new webhook secret (shown once); the old one stops working at once",
)
async def rotate_secret(
    session: Session, organisation: str, channel_id: str, principal: Manager
) -> Response:
    within(principal, organisation)
    channel = await partners.rotate_secret(
        session, organisation, parse_uuid(channel_id), principal.actor, utcnow()
    )
    await session.commit()
    return json_response(partners.channel_json(channel, secret=True))


@router.delete("/{organisation}/channels/{channel_id}", status_code=204, summary="Remove a channel")
async def remove_channel(
    session: Session, organisation: str, channel_id: str, principal: Manager
) -> Response:
    within(principal, organisation)
    await partners.remove(session, Channel, organisation, parse_uuid(channel_id), "channel")
    await session.commit()
    return Response(status_code=204)
