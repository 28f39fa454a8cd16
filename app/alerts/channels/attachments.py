"""Files an e-mail alert carries, made for its recipient when the e-mail is sent.

Alerting knows no report: the layers above register, by the kind of object an alert is about, a
maker that returns the files for one partner in one language (a SITREP's PDF, cut to what that
partner may see: app.reports). Made at send time, per delivery, so that each partner gets its
own version in its SPOC's language, and a retried delivery gets the same again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # maintype/subtype
    data: bytes


# (sessions, the alert, the recipient organisation, the language) -> the files.
Maker = Callable[[async_sessionmaker[AsyncSession], Alert, str, str], Awaitable[list[Attachment]]]
# Registered by those layers when an instance starts (app.runtime); alerting knows none of them.
MAKERS: dict[str, Maker] = {}


async def for_delivery(
    sessions: async_sessionmaker[AsyncSession], alert: Alert, organisation: str, language: str
) -> list[Attachment]:
    maker = MAKERS.get(alert.entity or "")
    if maker is None or alert.entity_id is None:
        return []
    return await maker(sessions, alert, organisation, language)
