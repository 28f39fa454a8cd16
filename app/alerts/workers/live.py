"""The live side of alerts on /ws: `alert` and `alert_state` messages pushed to the clients
they concern, and `ack` messages from partners.

Every instance listens on NOTIFY `sitcen_alerts` and pushes to its own connected clients, so a
partner connected to any instance hears of an alert raised on another. Each message is
serialised once per organisation (partners) and once for SITCEN staff, not once per client.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.enums import AckVia
from app.alerts.lifecycle import service
from app.alerts.models import Alert
from app.auth.permissions import may
from app.auth.principal import Principal
from app.auth.roles import Role
from app.clock import utcnow
from app.errors import ProblemError
from app.realtime.hub import Hub
from app.realtime.protocol import encode, error


def is_staff(principal: Principal) -> bool:
    """SITCEN's own users, who see every alert's state."""
    return principal.role != Role.partner and may(principal, "alerts:read")


@dataclass
class Outgoing:
    """The frames of one push: one per partner organisation, one for SITCEN staff."""

    partners: dict[str, str] = field(default_factory=dict)
    staff: str | None = None

    def frames_for(self, principal: Principal) -> tuple[str, ...]:
        if principal.role == Role.partner:
            frame = self.partners.get(principal.organisation or "")
        else:
            frame = self.staff if is_staff(principal) else None
        return (frame,) if frame else ()


# Alerts this instance pushed from memory, so its NOTIFY does not push them twice.
RECENT = 1000


class AlertPush:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], hub: Hub) -> None:
        self._sessions = sessions
        self._hub = hub
        self.pushed = 0
        self._local: deque[uuid.UUID] = deque(maxlen=RECENT)

    def expect(self, raised: list[service.NewAlert]) -> None:
        """Before the commit that NOTIFYs them: these will be pushed from memory."""
        self._local.extend(n.alert.id for n in raised)

    def send_raised(self, raised: list[service.NewAlert]) -> None:
        """After that commit: push them to this instance's clients at once."""
        for new in raised:
            self._send(_frames("alert", new.alert, new.recipients, new.deliveries))

    async def handle(self, payloads: list[str]) -> None:
        """Push what a run of notifications says, coalesced: new alerts first (a dashboard
        must know an alert before its state changes), then each alert's changed recipients
        once, however many notifications named them (a burst of deliveries)."""
        new: list[uuid.UUID] = []
        states: dict[uuid.UUID, set[str] | None] = {}
        deliveries: set[uuid.UUID] = set()
        for payload in payloads:
            kind, _, rest = payload.partition(":")
            alert_text, _, organisation = rest.partition(":")
            alert_id = uuid.UUID(alert_text)
            if kind == "new" and alert_id not in new and alert_id not in self._local:
                new.append(alert_id)
            elif kind in ("delivery", "retry"):
                deliveries.add(alert_id)
            elif kind == "state":
                known = states.get(alert_id, set())
                # No organisation: every recipient of the alert may have changed.
                whole = known is None or not organisation
                states[alert_id] = None if whole else {*(known or ()), organisation}
        for alert_id in new:
            await self.push(alert_id, "alert", None)
        for alert_id, organisations in states.items():
            await self.push(alert_id, "alert_state", organisations)
        for alert_id in deliveries - states.keys():
            await self.push(alert_id, "alert_state", None, partners=False)

    async def push(
        self,
        alert_id: uuid.UUID,
        kind: str,
        organisations: set[str] | None,
        *,
        partners: bool = True,
    ) -> None:
        """Read an alert's state and push it (`organisations`: only these recipients;
        `partners` False: to SITCEN staff only, for what partners do not see, deliveries)."""
        one = next(iter(organisations)) if organisations and len(organisations) == 1 else None
        async with self._sessions() as session:
            alert = await service.get_alert(session, alert_id)
            recipients = (await service.recipients_of(session, [alert_id], one)).get(alert_id, [])
            deliveries = await service.deliveries_of(session, [alert_id], one)
        if organisations is not None:
            recipients = [r for r in recipients if r.organisation in organisations]
        everything = [d for ds in deliveries.values() for d in ds]
        outgoing = _frames(kind, alert, recipients, everything)
        if not partners:
            outgoing.partners.clear()
        self._send(outgoing)

    def _send(self, outgoing: Outgoing) -> None:
        self.pushed += self._hub.send_each(outgoing.frames_for)


def _frames(
    kind: str,
    alert: Alert,
    recipients: Sequence[service.RecipientRecord],
    deliveries: Sequence[service.DeliveryRecord],
) -> Outgoing:
    """`alert` (the whole alert) or `alert_state` (its id), with `recipients`: a partner's own
    row; for staff every row given, with its deliveries."""
    head: dict[str, Any] = {"type": kind}
    head["alert"] = service.alert_json(alert) if kind == "alert" else str(alert.id)
    by_org: dict[str, list[service.DeliveryRecord]] = {}
    for d in deliveries:
        by_org.setdefault(d.organisation, []).append(d)
    outgoing = Outgoing()
    for r in recipients:
        own = {**head, "recipients": [service.recipient_json(r)]}
        outgoing.partners[r.organisation] = encode(own)
    staff = [service.recipient_json(r, by_org.get(r.organisation, [])) for r in recipients]
    outgoing.staff = encode({**head, "recipients": staff})
    return outgoing


class WebSocketAck:
    """Answers `{"type":"ack","alert":id}` from a partner's socket (the hub's ack hook)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __call__(self, principal: Principal, alert: str) -> str:
        if not may(principal, "alerts:ack") or principal.organisation is None:
            return error("forbidden", "only a partner SPOC acknowledges over /ws", "alert")
        try:
            alert_id = uuid.UUID(alert)
        except ValueError:
            return error("invalid", "alert: not an alert id", "alert")
        try:
            async with self._sessions() as session, session.begin():
                row = await service.acknowledge(
                    session,
                    alert_id,
                    principal.organisation,
                    by=principal.actor,
                    via=AckVia.websocket,
                    now=utcnow(),
                )
        except ProblemError as e:
            return error("not_found", e.detail, "alert")
        return encode(
            {"type": "acked", "alert": alert, "recipients": [service.recipient_json(row)]}
        )
