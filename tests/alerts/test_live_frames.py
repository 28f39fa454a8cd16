"""A new alert is pushed from memory (the records create_alert returns), other pushes from
rows read back: both must put the same thing on the wire."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.enums import CapCategory, CapSeverity, CapStatus, Certainty, MsgType, Urgency
from app.alerts.lifecycle import service
from app.alerts.lifecycle.compose import AlertDraft
from app.alerts.settings import AlertSettings
from app.alerts.workers.live import Outgoing, _frames
from app.clock import utcnow
from tests.alerts.conftest import Receiver


def _wire(outgoing: Outgoing) -> dict[str, Any]:
    """The frames decoded, deliveries in id order; the first attempt's due time aside, as the
    database stamps it (`now()`, the transaction's start), not the evaluator's clock."""

    def plain(frame: str) -> Any:
        body = orjson.loads(frame)
        for recipient in body["recipients"]:
            recipient.get("deliveries", []).sort(key=lambda d: d["id"])
            for delivery in recipient.get("deliveries", []):
                assert delivery.pop("next_attempt_at") is not None
        return body

    assert outgoing.staff is not None
    return {
        "staff": plain(outgoing.staff),
        "partners": {org: plain(frame) for org, frame in outgoing.partners.items()},
    }


async def test_a_new_alert_from_memory_is_the_alert_read_back(
    make_partner: Any, receiver: Receiver, sessions: async_sessionmaker[AsyncSession]
) -> None:
    partners = [await make_partner() for _ in range(3)]
    for partner in partners:
        await partner.webhook(receiver)
    await partners[0].webhook(receiver)  # a partner with two endpoints
    draft = AlertDraft(
        status=CapStatus.Exercise,
        msg_type=MsgType.Alert,
        severity=CapSeverity.Severe,
        urgency=Urgency.Immediate,
        certainty=Certainty.Observed,
        categories=[CapCategory.Fire],
        event="Fire",
        texts={lang: {"headline": f"test {lang}"} for lang in ("fr", "nl", "en")},
        area_desc="Grand-Place",
    )
    # Read back in the same transaction, which is never committed: the delivery worker must
    # not start sending (and changing the deliveries) before they are compared.
    async with sessions() as session:
        new = await service.create_alert(
            session,
            draft,
            [p.code for p in partners],
            actor="test",
            settings=AlertSettings(),
            now=utcnow(),
            channels=await service.all_channels(session),
        )
        alert_id = new.alert.id
        alert = await service.get_alert(session, alert_id)
        recipients = (await service.recipients_of(session, [alert_id])).get(alert_id, [])
        deliveries = await service.deliveries_of(session, [alert_id])
        stored = [d for ds in deliveries.values() for d in ds]
        memory = _wire(_frames("alert", new.alert, new.recipients, new.deliveries))
        read_back = _wire(_frames("alert", alert, recipients, stored))
        await session.rollback()
    assert len(stored) == 4 and len(recipients) == 3
    assert memory == read_back
    assert sorted(memory["partners"]) == sorted(p.code for p in partners)
