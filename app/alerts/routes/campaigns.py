"""Alarm tests: send a Test alert to partners, then report time to acknowledge per partner
(JSON, CSV)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.alerts.lifecycle import campaigns, service
from app.alerts.schemas import CampaignIn
from app.alerts.settings import get_alert_settings
from app.api.deps import Session, parse_uuid, require
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.principal import Principal
from app.clock import utcnow
from app.domain.organisations import require_known

router = APIRouter(prefix="/api/campaigns", tags=["alarm tests"], route_class=Route)
Reader = Annotated[Principal, Depends(require("campaigns:read"))]


@router.post("", status_code=201, summary="Start an alarm test: a Test alert to partners")
async def start_campaign(
    session: Session,
    body: CampaignIn,
    principal: Annotated[Principal, Depends(require("campaigns:manage"))],
) -> Response:
    if body.organisations == "all":
        organisations = await service.all_organisations(session)
    else:
        organisations = await require_known(session, body.organisations, ["body", "organisations"])
    texts = (
        {
            lang.value: {k: v for k, v in t.model_dump().items() if v}
            for lang, t in body.texts.items()
        }
        if body.texts
        else None
    )
    campaign = await campaigns.start(
        session,
        body.name,
        organisations,
        actor=principal.actor,
        settings=get_alert_settings(),
        now=utcnow(),
        texts=texts,
    )
    await session.commit()
    report = await campaigns.report(session, campaign)
    return json_response(report, 201, {"Location": f"/api/campaigns/{campaign.id}"})


@router.get("", summary="Alarm tests, newest first")
async def list_campaigns(
    session: Session, _: Reader, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> Response:
    rows = await campaigns.listing(session, limit)
    return json_response({"campaigns": [await campaigns.report(session, c) for c in rows]})


@router.get("/{campaign_id}", summary="An alarm test's report: time to acknowledge per partner")
async def read_campaign(session: Session, campaign_id: str, _: Reader) -> Response:
    campaign = await campaigns.get(session, parse_uuid(campaign_id))
    return json_response(await campaigns.report(session, campaign))


@router.get("/{campaign_id}/report.csv", summary="The same report as CSV")
async def campaign_csv(session: Session, campaign_id: str, _: Reader) -> Response:
    campaign = await campaigns.get(session, parse_uuid(campaign_id))
    body = campaigns.as_csv(await campaigns.report(session, campaign))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="alarm-test-{campaign.id}.csv"'},
    )
