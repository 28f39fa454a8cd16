"""An Atom feed (RFC 4287) of current alerts, each entry linking to its CAP document: the
usual way for partners' systems to poll CAP alerts."""

from __future__ import annotations

from datetime import datetime, timedelta

from lxml import etree
from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.alerts.lifecycle.cap import MEDIA_TYPE
from app.alerts.lifecycle.service import identifier, text_in
from app.alerts.models import Alert, Recipient
from app.text import xml_safe

ATOM = "http://www.w3.org/2005/Atom"
MEDIA = "application/atom+xml"
# An alert that is neither expired nor cancelled stays "current" for this long after it is sent.
CURRENT_FOR = timedelta(hours=24)


async def current(
    session: AsyncSession, now: datetime, organisation: str | None, limit: int = 200
) -> list[Alert]:
    cancel = aliased(Alert)
    query = (
        select(Alert)
        .where(
            Alert.sent_at > now - CURRENT_FOR,
            Alert.msg_type != "Cancel",
            or_(Alert.expires_at.is_(None), Alert.expires_at > now),
            ~exists().where(cancel.references_id == Alert.id, cancel.msg_type == "Cancel"),
        )
        .order_by(Alert.sent_at.desc())
        .limit(limit)
    )
    if organisation is not None:
        query = query.where(
            exists().where(Recipient.alert_id == Alert.id, Recipient.organisation == organisation)
        )
    return list((await session.scalars(query)).all())


def _sub(
    parent: etree._Element, name: str, text: str | None = None, **attrs: str
) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{name}", attrs)
    if text is not None:
        element.text = xml_safe(text)
    return element


def render(
    alerts: list[Alert], *, base_url: str, self_url: str, language: str, now: datetime
) -> bytes:
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _sub(feed, "id", f"{base_url}/api/alerts/feed.atom")
    _sub(feed, "title", "SITCEN — alertes en cours / lopende alarmen")
    _sub(feed, "updated", (alerts[0].sent_at if alerts else now).isoformat())
    _sub(feed, "link", rel="self", href=self_url, type=MEDIA)
    author = _sub(feed, "author")
    _sub(author, "name", "SITCEN safe.brussels")
    for alert in alerts:
        texts = text_in(alert, language)
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"urn:sitcen:{identifier(alert)}")
        _sub(entry, "title", texts["headline"])
        _sub(entry, "updated", alert.sent_at.isoformat())
        _sub(entry, "summary", texts.get("description") or alert.area_desc)
        _sub(entry, "category", term=alert.severity, label=f"{alert.status} {alert.msg_type}")
        cap = f"{base_url}/api/alerts/{alert.id}.cap"
        _sub(entry, "link", rel="alternate", type=MEDIA_TYPE, href=cap)
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True))
