"""Alerts: compose and send, list and read with their delivery and acknowledgement state,
acknowledge, CAP 1.2 documents and the Atom feed, escalations and dead letters.

Also the signed acknowledgement link of e-mails (`/alerts/ack`, outside /api: it is a page for
people, and needs no login: the token is the proof).
"""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from pydantic import Field
from starlette.responses import HTMLResponse, Response

from app import background
from app.alerts.channels import tokens
from app.alerts.enums import AckVia, DeliveryStatus, Origin
from app.alerts.lifecycle import atom, cap, manual, service
from app.alerts.models import Alert
from app.alerts.schemas import AckIn, AlertIn
from app.alerts.settings import get_alert_settings
from app.api.deps import Session, parse_list, parse_uuid, require, runtime_of
from app.api.responses import json_response
from app.api.routing import Route
from app.auth.models import User
from app.auth.principal import Principal
from app.clock import utcnow
from app.domain.changes import evaluator_lag
from app.domain.schema import Input
from app.errors import ProblemError, invalid_link, not_found, validation_problem
from app.partners.access import is_partner, within
from app.partners.models import Contact

router = APIRouter(prefix="/api/alerts", tags=["alerts"], route_class=Route)
ack_link_router = APIRouter(include_in_schema=False, route_class=Route)

Reader = Annotated[Principal, Depends(require("alerts:read"))]
Limit = Annotated[int, Query(ge=1, le=500)]


def _mine(principal: Principal) -> str | None:
    """The organisation a partner is kept to; None for SITCEN staff (everything)."""
    return principal.organisation if is_partner(principal) else None


async def _detail(session: Session, alert: Alert, principal: Principal) -> dict[str, object]:
    org = _mine(principal)
    recipients = (await service.recipients_of(session, [alert.id], org)).get(alert.id, [])
    if org is not None and not recipients:
        raise not_found("alert", alert.id)
    deliveries = await service.deliveries_of(session, [alert.id], org)
    return {
        **service.alert_json(alert),
        "recipients": [
            service.recipient_json(r, deliveries.get((alert.id, r.organisation), []))
            for r in recipients
        ],
    }


@router.post("", status_code=201, summary="Compose and send an alert (CAP fields, FR/NL/EN)")
async def send_alert(
    session: Session,
    body: AlertIn,
    principal: Annotated[Principal, Depends(require("alerts:send"))],
) -> Response:
    draft, organisations = await manual.draft_of(session, body)
    if not organisations:
        raise validation_problem([{"loc": ["body", "organisations"], "msg": "no recipient"}])
    created = await service.create_alert(
        session,
        draft,
        organisations,
        actor=principal.actor,
        settings=get_alert_settings(),
        now=utcnow(),
    )
    alert = created.alert
    await session.commit()
    return json_response(
        await _detail(session, alert, principal), 201, {"Location": f"/api/alerts/{alert.id}"}
    )


@router.get("", summary="Alerts, newest first (a partner sees its own)")
async def list_alerts(
    session: Session,
    principal: Reader,
    unacknowledged: bool = False,
    status: str | None = None,
    origin: str | None = None,
    organisation: str | None = None,
    campaign: str | None = None,
    before: str | None = None,
    limit: Limit = 50,
    deliveries: bool = False,
) -> Response:
    org = _mine(principal) or organisation
    if organisation is not None:
        within(principal, organisation)
    alerts = await service.listing(
        session,
        organisation=org,
        unacknowledged=unacknowledged,
        status=parse_list(status, "status", {"Actual", "Exercise", "Test"}),
        origin=parse_list(origin, "origin", {o.value for o in Origin}),
        campaign=parse_uuid(campaign, "campaign") if campaign else None,
        before=parse_uuid(before, "before") if before else None,
        limit=limit,
    )
    ids = [a.id for a in alerts]
    recipients = await service.recipients_of(session, ids, org)
    # The dashboard's state panel shows each partner's deliveries: one query for the page.
    sent = await service.deliveries_of(session, ids, org) if deliveries else None
    body = [
        {
            **service.alert_json(a),
            "recipients": [
                service.recipient_json(
                    r, None if sent is None else sent.get((a.id, r.organisation), [])
                )
                for r in recipients[a.id]
            ],
        }
        for a in alerts
    ]
    more = {"next_before": str(alerts[-1].id)} if len(alerts) == limit else {}
    return json_response({"alerts": body, **more})


@router.get(
    "/feed.atom",
    summary="Atom feed of current alerts, entries linking to CAP",
    response_class=Response,
    responses={200: {"content": {atom.MEDIA: {}}}},
)
async def feed(request: Request, session: Session, principal: Reader, lang: str = "fr") -> Response:
    settings = get_alert_settings()
    now = utcnow()
    alerts = await atom.current(session, now, _mine(principal))
    body = atom.render(
        alerts, base_url=settings.public_url, self_url=str(request.url), language=lang, now=now
    )
    return Response(body, media_type=atom.MEDIA)


@router.get("/escalations", summary="Unacknowledged alerts escalated or flagged to SITCEN")
async def list_escalations(session: Session, principal: Reader, limit: Limit = 100) -> Response:
    rows = await service.escalations(session, _mine(principal), limit)
    return json_response(
        {"escalations": [{"alert": str(r.alert_id), **service.recipient_json(r)} for r in rows]}
    )


@router.get("/deliveries", summary="Deliveries, e.g. ?status=dead for the dead letters")
async def list_deliveries(
    session: Session, principal: Reader, status: str | None = None, limit: Limit = 100
) -> Response:
    statuses = parse_list(status, "status", {s.value for s in DeliveryStatus})
    rows = await service.deliveries(session, _mine(principal), statuses, limit)
    return json_response(
        {
            "deliveries": [
                {
                    "alert": str(d.alert_id),
                    "organisation": d.organisation,
                    **service.delivery_json(d),
                }
                for d in rows
            ]
        }
    )


@router.post("/deliveries/{delivery_id}/retry", summary="Send a dead-lettered delivery again")
async def retry(
    session: Session,
    delivery_id: str,
    _: Annotated[Principal, Depends(require("alerts:send"))],
) -> Response:
    d = await service.retry_delivery(session, parse_uuid(delivery_id), utcnow())
    await session.commit()
    return json_response(service.delivery_json(d))


@router.get(
    "/health",
    summary="This instance's alert workers and the evaluator's lag; for SITCEN staff, every "
    "background loop's errors and the items set aside",
)
async def health(request: Request, session: Session, principal: Reader) -> Response:
    lag = await evaluator_lag(session)
    runtime = runtime_of(request)
    alerting = runtime.alerting
    body: dict[str, object] = {
        "evaluator_lag": lag,
        "workers": alerting.status() if alerting else None,
    }
    if not is_partner(principal):
        # Errors and dead letters name internal objects: for SITCEN staff only.
        body["loops"] = {loop.name: loop.stats.as_dict() for loop in runtime.loops}
        body["dead_letters"] = await background.dead_letters(session)
    return json_response(body)


@router.get(
    "/{alert_id}.cap",
    summary="The alert as a CAP 1.2 document",
    response_class=Response,
    responses={200: {"content": {cap.MEDIA_TYPE: {}}}},
)
async def cap_document(session: Session, alert_id: str, principal: Reader) -> Response:
    alert = await service.get_alert(session, parse_uuid(alert_id))
    detail = await _detail(session, alert, principal)
    referenced = await session.get(Alert, alert.references_id) if alert.references_id else None
    settings = get_alert_settings()
    message = cap.from_alert(
        alert,
        sender=settings.cap_sender,
        web=f"{settings.public_url}/api/alerts/{alert.id}",
        referenced=referenced,
        addresses=[r["organisation"] for r in detail["recipients"]],  # type: ignore[attr-defined]
    )
    return Response(cap.render(message), media_type=cap.MEDIA_TYPE)


@router.get("/{alert_id}", summary="An alert with its delivery and acknowledgement state")
async def read_alert(session: Session, alert_id: str, principal: Reader) -> Response:
    alert = await service.get_alert(session, parse_uuid(alert_id))
    return json_response(await _detail(session, alert, principal))


@router.post("/{alert_id}/ack", summary="Acknowledge (a partner), or record a partner's ack")
async def ack(
    session: Session,
    alert_id: str,
    principal: Annotated[Principal, Depends(require("alerts:ack"))],
    body: AckIn | None = None,
) -> Response:
    requested = body.organisation if body else None
    if is_partner(principal):
        assert principal.organisation is not None
        organisation, via = within(principal, requested or principal.organisation), AckVia.rest
    elif requested is None:
        raise validation_problem(
            [{"loc": ["body", "organisation"], "msg": "name the partner whose ack you record"}]
        )
    else:
        organisation, via = requested, AckVia.on_behalf
    row = await service.acknowledge(
        session,
        parse_uuid(alert_id),
        organisation,
        by=principal.actor,
        via=via,
        now=utcnow(),
    )
    await session.commit()
    return json_response({"alert": alert_id, **service.recipient_json(row)})


_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>SITCEN</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em">{body}</body>
</html>"""


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(lang="fr", body=body), status_code=status)


async def _claim(request: Request, session: Session, token: str) -> tuple[tokens.AckClaim, Alert]:
    claim = tokens.verify(runtime_of(request).settings.secret_key, token)
    alert = await session.get(Alert, claim.alert_id) if claim else None
    if claim is None or alert is None:
        raise invalid_link(
            # The SPOC reads this page, not an API client: in the region's languages.
            "Ce lien d'accusé de réception n'est pas valable ou a expiré. / "
            "Deze ontvangstbevestigingslink is ongeldig of verlopen. / "
            "This acknowledgement link is invalid or expired.",
        )
    return claim, alert


@ack_link_router.get("/alerts/ack")
async def ack_link_page(request: Request, session: Session, token: str = "") -> Response:
    """A page with a button: e-mail scanners follow links, so a GET must not acknowledge."""
    try:
        _, alert = await _claim(request, session, token)
    except ProblemError as e:
        return _page(f"<p>{html.escape(e.detail)}</p>", 400)
    texts = service.text_in(alert, "fr")
    return _page(
        f"<h1>{html.escape(alert.ref)}</h1><p>{html.escape(texts['headline'])}</p>"
        '<form method="post" action="/alerts/ack">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">'
        '<button type="submit" style="font-size:1.3em">'
        "Accuser réception / Ontvangst bevestigen / Acknowledge</button></form>"
    )


class PushAckIn(Input):
    token: Annotated[str, Field(min_length=1, max_length=500)]


@ack_link_router.post("/alerts/ack/push")
async def push_ack(request: Request, session: Session, body: PushAckIn) -> Response:
    """The "Acknowledge" action of a push notification (frontend/src/sw-push.js): its signed
    token names the alert, the partner and the user whose device it reached. Recorded as any
    acknowledgement (the first counts), `via` push, by that user, if they are still an active
    user of that partner."""
    claim = tokens.verify_push(runtime_of(request).settings.secret_key, body.token)
    user = await session.get(User, claim.user_id) if claim else None
    if (
        claim is None
        or user is None
        or user.disabled
        or user.organisation != claim.organisation
        or await session.get(Alert, claim.alert_id) is None
    ):
        raise invalid_link(
            "Cette notification ne permet plus d'accuser réception. / "
            "Met deze melding kan de ontvangst niet meer bevestigd worden. / "
            "This notification can no longer acknowledge the alert."
        )
    row = await service.acknowledge(
        session,
        claim.alert_id,
        claim.organisation,
        by=user.username,
        via=AckVia.push,
        now=utcnow(),
    )
    await session.commit()
    return json_response({"alert": str(claim.alert_id), **service.recipient_json(row)})


@ack_link_router.post("/alerts/ack")
async def ack_link(
    request: Request, session: Session, token: Annotated[str, Form()] = ""
) -> Response:
    try:
        claim, alert = await _claim(request, session, token)
    except ProblemError as e:
        return _page(f"<p>{html.escape(e.detail)}</p>", 400)
    contact = await session.get(Contact, claim.contact_id) if claim.contact_id else None
    by = f"{contact.name} <{contact.email}>" if contact else f"{claim.organisation} (link)"
    row = await service.acknowledge(
        session, alert.id, claim.organisation, by=by, via=AckVia.email_link, now=utcnow()
    )
    await session.commit()
    when = row.acknowledged_at.isoformat() if row.acknowledged_at else ""
    return _page(
        f"<h1>{html.escape(alert.ref)}</h1><p>✓ Reçu / Ontvangen / Acknowledged</p>"
        f"<p>{html.escape(row.acknowledged_by or '')} — {html.escape(when)}</p>"
    )
