"""E-mail to SPOCs over SMTP (aiosmtplib), in the SPOC's language, with a signed ack link."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from app.alerts.channels.attachments import Attachment
from app.alerts.channels.webhook import SendError
from app.alerts.lifecycle.service import identifier, text_in
from app.alerts.models import Alert
from app.alerts.phrases import ACK, phrase
from app.alerts.settings import AlertSettings
from app.text import one_line
from app.vocabulary import label


def message(
    alert: Alert,
    *,
    to: str,
    language: str,
    delivery_id: str,
    ack_url: str,
    cap_url: str,
    settings: AlertSettings,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    texts = text_in(alert, language)
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    tag = "" if alert.status == "Actual" else f"[{alert.status.upper()}] "
    msg["Subject"] = one_line(f"[SITCEN {alert.ref}] {tag}{texts['headline']}")
    msg["Date"] = formatdate(alert.sent_at.timestamp(), localtime=False)
    # The same id on every attempt: a resend after a crash is recognisable as the same message.
    msg["Message-ID"] = f"<{delivery_id}@sitcen.safe.brussels>"
    msg["X-Sitcen-Alert"] = identifier(alert)
    lines = [
        texts["headline"],
        "",
        texts.get("description", ""),
        texts.get("instruction", ""),
        "",
        " · ".join(
            (
                label("cap_severity", alert.severity, language),
                label("cap_urgency", alert.urgency, language),
                label("cap_certainty", alert.certainty, language),
                alert.area_desc,
            )
        ),
        "",
        f"{phrase(ACK, 'link', language)}: {ack_url}",
        f"CAP: {cap_url}",
    ]
    msg.set_content("\n".join(lines))
    msg["Content-Language"] = language  # after set_content, which resets Content-* headers
    for a in attachments:
        maintype, subtype = a.content_type.split("/", 1)
        msg.add_attachment(a.data, maintype=maintype, subtype=subtype, filename=a.filename)
    return msg


async def send(settings: AlertSettings, msg: EmailMessage) -> None:
    try:
        await aiosmtplib.send(
            msg,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
    except (aiosmtplib.SMTPException, OSError) as e:
        raise SendError(f"SMTP: {e}"[:500]) from None
