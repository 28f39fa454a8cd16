"""Alarm tests: a Test alert to a set of partners, reported per partner by time to
acknowledge (or no answer), as JSON and CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.enums import (
    CapCategory,
    CapSeverity,
    CapStatus,
    Certainty,
    MsgType,
    Origin,
    Urgency,
)
from app.alerts.lifecycle import service
from app.alerts.lifecycle.compose import AlertDraft, Texts
from app.alerts.models import Alert, Campaign, Recipient
from app.alerts.settings import AlertSettings
from app.db import get_or_404
from app.domain.base import uuid7
from app.partners.models import Organisation

REPORT_COLUMNS = (
    "organisation",
    "name_fr",
    "name_nl",
    "sent_at",
    "acknowledged_at",
    "seconds_to_ack",
    "acknowledged_by",
    "ack_via",
    "escalation_level",
    "answered",
)


def default_texts(name: str) -> Texts:
    return {
        "fr": {
            "headline": f"Test d'alarme SITCEN : {name}",
            "description": "Ceci est un test. Merci d'accuser réception dès que possible.",
            "event": "Test d'alarme",
        },
        "nl": {
            "headline": f"Alarmtest SITCEN: {name}",
            "description": "Dit is een test. Gelieve de ontvangst zo snel mogelijk te bevestigen.",
            "event": "Alarmtest",
        },
        "en": {
            "headline": f"SITCEN alarm test: {name}",
            "description": "This is a test. Please acknowledge as soon as possible.",
            "event": "Alarm test",
        },
    }


async def start(
    session: AsyncSession,
    name: str,
    organisations: list[str],
    *,
    actor: str,
    settings: AlertSettings,
    now: datetime,
    texts: Texts | None = None,
) -> Campaign:
    campaign_id = uuid7()
    draft = AlertDraft(
        status=CapStatus.Test,
        msg_type=MsgType.Alert,
        severity=CapSeverity.Minor,
        urgency=Urgency.Immediate,
        certainty=Certainty.Observed,
        categories=[CapCategory.Other],
        event="Alarm test",
        texts=texts or default_texts(name),
        area_desc="Région de Bruxelles-Capitale / Brussels Hoofdstedelijk Gewest",
        origin=Origin.campaign,
        campaign_id=campaign_id,
    )
    alert = (
        await service.create_alert(
            session, draft, organisations, actor=actor, settings=settings, now=now
        )
    ).alert
    campaign = Campaign(
        id=campaign_id, name=name, alert_id=alert.id, created_at=now, created_by=actor
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def get(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign:
    return await get_or_404(session, Campaign, campaign_id, "alarm test")


async def listing(session: AsyncSession, limit: int) -> list[Campaign]:
    rows = await session.scalars(select(Campaign).order_by(Campaign.created_at.desc()).limit(limit))
    return list(rows.all())


async def report(session: AsyncSession, campaign: Campaign) -> dict[str, Any]:
    alert = await session.get(Alert, campaign.alert_id)
    assert alert is not None  # cascades with the campaign
    rows = (
        await session.execute(
            select(Recipient, Organisation)
            .join(Organisation, Organisation.code == Recipient.organisation)
            .where(Recipient.alert_id == campaign.alert_id)
            .order_by(Recipient.organisation)
        )
    ).all()
    partners = [_row(alert, r, o) for r, o in rows]
    answered = [p["seconds_to_ack"] for p in partners if p["answered"]]
    return {
        "id": str(campaign.id),
        "name": campaign.name,
        "alert": str(alert.id),
        "alert_ref": alert.ref,
        "sent_at": alert.sent_at.isoformat(),
        "created_by": campaign.created_by,
        "partners": partners,
        "summary": {
            "partners": len(partners),
            "answered": len(answered),
            "no_answer": len(partners) - len(answered),
            "median_seconds_to_ack": sorted(answered)[len(answered) // 2] if answered else None,
            "max_seconds_to_ack": max(answered) if answered else None,
        },
    }


def _row(alert: Alert, r: Recipient, o: Organisation) -> dict[str, Any]:
    acked = r.acknowledged_at
    return {
        "organisation": r.organisation,
        "name_fr": o.name_fr,
        "name_nl": o.name_nl,
        "sent_at": alert.sent_at.isoformat(),
        "acknowledged_at": acked.isoformat() if acked else None,
        "seconds_to_ack": round((acked - alert.sent_at).total_seconds(), 1) if acked else None,
        "acknowledged_by": r.acknowledged_by,
        "ack_via": r.ack_via,
        "escalation_level": r.level,
        "answered": acked is not None,
    }


def as_csv(body: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for partner in body["partners"]:
        writer.writerow({k: "" if partner[k] is None else partner[k] for k in REPORT_COLUMNS})
    return out.getvalue()
