"""Sending an approved SITREP to its partners through alerting (app.alerts): one alert about the
SITREP to every organisation of its audience, which goes out as every alert does (live on /ws,
signed webhooks, e-mail to the on-duty SPOC), is acknowledged the same ways (REST, /ws, the
e-mail's link) and escalates when nobody acknowledges it. Its text carries the link to the
SITREP; the e-mail carries the PDF too, made for that partner in its SPOC's language when the
e-mail is sent (app.alerts.channels.attachments), so that no partner gets another's version.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.channels.attachments import MAKERS, Attachment
from app.alerts.enums import (
    CapCategory,
    CapSeverity,
    CapStatus,
    Certainty,
    MsgType,
    Origin,
    Urgency,
)
from app.alerts.lifecycle import service as alerts
from app.alerts.lifecycle.compose import AlertDraft
from app.alerts.lifecycle.manual import REGION
from app.alerts.models import Alert, Recipient
from app.alerts.settings import AlertSettings
from app.auth.permissions import scope_of
from app.auth.principal import Principal
from app.auth.roles import Role
from app.cell.paging import SEVERITY
from app.domain import objects
from app.domain.activation import Activation
from app.domain.actor import Actor
from app.domain.enums import ActivationLevel, Entity, Language, SitrepStatus, Visibility
from app.domain.features import plain, to_feature
from app.domain.sitrep import SPEC, Sitrep
from app.domain.visibility import Scope
from app.errors import conflict
from app.reports import sitrep, sitrep_print
from app.reports.sitrep import cell_organisations


def partner_scope(organisation: str) -> Scope:
    """What a SPOC of `organisation` sees: the permission table's partner row."""
    spoc = Principal(
        kind="system",
        id=None,
        name=f"partner:{organisation}",
        role=Role.partner,
        organisation=organisation,
    )
    return scope_of(spoc)


async def audience(session: AsyncSession, row: Sitrep) -> list[str]:
    """The organisations a SITREP is for: those it is shared with by name, and when it is
    shared with every partner, those of its activation's cell."""
    orgs = set(row.shared_with or [])
    if row.visibility == Visibility.shared and row.activation_id is not None:
        orgs.update(await cell_organisations(session, row.activation_id))
    return sorted(orgs)


def _texts(row: Sitrep, link: str) -> dict[str, dict[str, str]]:
    return {
        "fr": {
            "headline": f"Rapport de situation {row.ref} : {row.title}",
            "description": f"Rapport de situation {row.ref} à lire : {link}?lang=fr",
            "instruction": "Accusez réception après lecture.",
        },
        "nl": {
            "headline": f"Situatierapport {row.ref}: {row.title}",
            "description": f"Situatierapport {row.ref} om te lezen: {link}?lang=nl",
            "instruction": "Bevestig de ontvangst na lezing.",
        },
        "en": {
            "headline": f"Situation report {row.ref}: {row.title}",
            "description": f"Situation report {row.ref} to read: {link}?lang=en",
            "instruction": "Acknowledge once read.",
        },
    }


async def send(
    session: AsyncSession,
    actor: Actor,
    sitrep_id: uuid.UUID,
    scope: ColumnElement[bool] | None,
    settings: AlertSettings,
    now: datetime,
) -> alerts.NewAlert:
    """Send an approved SITREP to its audience; sent again, it is a new alert (a reminder)."""
    row = await objects.get(session, SPEC, sitrep_id, scope)
    assert isinstance(row, Sitrep)
    if row.status != SitrepStatus.approved:
        raise conflict(
            f"SITREP {row.ref} is a draft: it is sent once approved by the coordinator or the "
            "High Official"
        )
    orgs = await audience(session, row)
    if not orgs:
        raise conflict(
            f"SITREP {row.ref} is shared with no partner: nobody to send it to (its audience "
            "is set before approval; generate a new SITREP for partners)"
        )
    severity = CapSeverity.Minor
    if row.activation_id is not None:
        activation = await session.get(Activation, row.activation_id)
        if activation is not None:
            severity = SEVERITY[ActivationLevel(activation.level)]
    draft = AlertDraft(
        status=CapStatus.Exercise if row.exercise else CapStatus.Actual,
        msg_type=MsgType.Alert,
        severity=severity,
        urgency=Urgency.Expected,
        certainty=Certainty.Observed,
        categories=[CapCategory.Safety],
        event=f"SITREP {row.ref}",
        texts=_texts(row, f"{settings.public_url}/api/sitreps/{row.id}/html"),
        area_desc=REGION,
        origin=Origin.manual,
        entity=Entity.sitrep.value,
        entity_id=row.id,
        entity_ref=row.ref,
    )
    return await alerts.create_alert(
        session, draft, orgs, actor=actor.name, settings=settings, now=now
    )


async def sendings(
    session: AsyncSession, sitrep_id: uuid.UUID, scope: Scope
) -> list[dict[str, Any]]:
    """Each time the SITREP was sent, to whom, and who acknowledged when: for a partner, its
    own organisation's line only."""
    sent = list(
        (
            await session.scalars(
                select(Alert)
                .where(Alert.entity == Entity.sitrep.value, Alert.entity_id == sitrep_id)
                .order_by(Alert.sent_at)
            )
        ).all()
    )
    query = select(Recipient).where(Recipient.alert_id.in_([a.id for a in sent]))
    if scope.partner:
        query = query.where(Recipient.organisation == (scope.organisation or ""))
    recipients: dict[uuid.UUID, list[Recipient]] = {}
    for r in (await session.scalars(query.order_by(Recipient.organisation))).all():
        recipients.setdefault(r.alert_id, []).append(r)
    out = []
    for a in sent:
        mine = recipients.get(a.id, [])
        if scope.partner and not mine:
            continue
        out.append(
            {
                "alert": str(a.id),
                "ref": a.ref,
                "sent_at": plain(a.sent_at),
                "sent_by": a.created_by,
                "recipients": [
                    {
                        "organisation": r.organisation,
                        "acknowledged_at": plain(r.acknowledged_at),
                        "acknowledged_by": r.acknowledged_by,
                        "escalated_at": plain(r.escalated_at),
                    }
                    for r in mine
                ],
            }
        )
    return out


async def pdf_for(
    sessions: async_sessionmaker[AsyncSession], alert: Alert, organisation: str, language: str
) -> list[Attachment]:
    """The SITREP's PDF as `organisation` may read it, in `language` (the e-mail's file)."""
    scope = partner_scope(organisation)
    async with sessions() as session:
        row = await session.get(Sitrep, alert.entity_id)
        if row is None:  # deleted since: a draft is never sent, so this does not happen
            return []
        feature = to_feature(SPEC, row)
        if not scope.sees(feature["properties"]):
            return []
        content = await sitrep.stored_picture(session, row.id)
        ref_layers = await sitrep_print.reference(session)
    view = sitrep.cut(feature, content, scope, organisation)
    lang = Language(language) if sitrep.is_language(language) else Language.fr
    pdf = await sitrep_print.render_pdf(view, lang, ref_layers)
    return [Attachment(f"{row.ref}-{lang.value}.pdf", "application/pdf", pdf)]


def attach_to_alerts() -> None:
    """Let alerting's e-mails carry a SITREP's PDF (app.runtime calls this)."""
    MAKERS[Entity.sitrep.value] = pdf_for
