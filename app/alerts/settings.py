"""Settings of alerting, read once at start from the environment (prefix ``SITCEN_ALERTS_``).

They live apart from app.settings so that alerting can be tuned without touching the core; the
table of them is in docs/alerts.md.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Chrome and Edge (FCM), Firefox (Mozilla autopush), Safari (Apple), Edge/Windows (WNS).
DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com",
    "push.services.mozilla.com",
    "push.apple.com",
    "notify.windows.com",
)


class AlertSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SITCEN_ALERTS_", frozen=True)

    enabled: bool = Field(default=True, description="Run the alert workers in this instance.")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_from: str = "sitcen@safe.brussels"
    cap_sender: str = "sitcen@safe.brussels"
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL of this service as partners reach it (acknowledgement links).",
    )
    # Seconds a partner has to acknowledge, per severity, before the next SPOC is alerted.
    ack_deadline_seconds: dict[str, int] = Field(
        default_factory=lambda: {"extreme": 120, "severe": 300, "moderate": 900, "minor": 1800}
    )
    ack_link_hours: int = Field(default=72, ge=1, description="Lifetime of an e-mail ack link.")
    max_attempts: int = Field(default=8, ge=1, description="Sends before dead-letter.")
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_max_seconds: float = Field(default=600.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Web Push: how long a push service keeps a message for a device that is off (RFC 8030
    # TTL; never past the alert's expiry), and the time allowed for one request.
    push_ttl_seconds: int = Field(default=86_400, ge=0, le=2_419_200)
    push_timeout_seconds: float = Field(default=10.0, gt=0)
    # A push endpoint is https://; plain http:// to this machine only if this is set (a local
    # push service, in tests and development).
    push_allow_http_loopback: bool = False
    # The push services a device may name (a host, or any host under it): the browsers' own.
    # The service POSTs to the endpoint a user gives: without this list, a user could make it
    # knock on any https host and read the status in the device's last error. Empty: any.
    push_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_PUSH_HOSTS)
    )

    @field_validator("push_hosts", mode="before")
    @classmethod
    def _hosts(cls, v: Any) -> Any:
        """A comma-separated list in the environment."""
        if isinstance(v, str):
            return [h.strip().lower().lstrip(".") for h in v.split(",") if h.strip()]
        return v

    # A claimed delivery not finished within this is taken again (its sender died).
    claim_seconds: float = Field(default=60.0, gt=0)
    send_concurrency: int = Field(default=32, ge=1)
    poll_seconds: float = Field(default=2.0, gt=0, description="Safety-net poll of the workers.")
    escalation_poll_seconds: float = Field(default=5.0, gt=0)
    evaluate_batch: int = Field(default=200, ge=1)
    # Under a stream of changes the evaluator takes them in batches, at most one this often:
    # each batch costs about five round trips, and at hundreds of creates a second it ran one
    # per change. A change after a quiet moment is evaluated at once.
    evaluate_interval_seconds: float = Field(default=0.05, ge=0)

    def deadline_for(self, severity: str) -> int:
        return int(self.ack_deadline_seconds.get(severity.lower(), 900))


@lru_cache(maxsize=1)
def get_alert_settings() -> AlertSettings:
    return AlertSettings()
