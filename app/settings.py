"""Settings, read once from the environment (prefix ``SITCEN_``) at start."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development"}


def asyncpg_url(url: str) -> str:
    """Accept a plain ``postgresql://`` URL and return the SQLAlchemy asyncpg form."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("a database URL must be a postgresql:// URL")


def plain_url(url: str) -> str:
    """The libpq form of a database URL, for asyncpg.connect and psql."""
    return "postgresql://" + asyncpg_url(url).removeprefix("postgresql+asyncpg://")


class Settings(BaseSettings):
    # Errors name the setting, never echo its value: a malformed key or secret must not end
    # up in a log.
    model_config = SettingsConfigDict(env_prefix="SITCEN_", frozen=True, hide_input_in_errors=True)

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL/PostGIS URL. Unset: a local cluster is started under .local/.",
    )
    read_database_url: str | None = Field(
        default=None,
        description=(
            "PostgreSQL/PostGIS URL of a read replica (a hot standby of SITCEN_DATABASE_URL) "
            "for the reads that need not see the latest writes: OGC API Features items and "
            "the exports, in read-only transactions. Unset: the primary serves everything. "
            "Vector tiles stay on the primary: a tile's ETag names the feed generation it "
            "holds, which a lagging replica cannot promise."
        ),
    )
    secret_key: str = Field(
        default="", description="Signs access tokens. Required outside local mode."
    )
    # Web Push (RFC 8292): the application server's key, a P-256 private key (base64url of its
    # 32 bytes, or PEM/DER as py_vapid reads it). Unset outside local mode: no push channel.
    vapid_private_key: str = Field(
        default="", description="VAPID private key of the Web Push channel; unset: no push."
    )
    vapid_subject: str = Field(
        default="mailto:sitcen@safe.brussels",
        description="VAPID `sub` claim: how a push service reaches the operator (mailto:/https:).",
    )
    reference_dir: Path | None = Field(
        default=None, description="Directory of reference GeoJSON layers loaded at local start."
    )
    local_dir: Path = Field(
        default=PROJECT_ROOT / ".local", description="Where local mode keeps its database cluster."
    )
    local_pg_port: int = Field(default=54329, description="Port of the self-started local cluster.")
    host: str = "127.0.0.1"
    port: int = 8000
    # How long an idle HTTP connection is kept. Longer than the idle limits of the clients
    # and proxies in front (httpx 5 s, nginx 60 s, cloud balancers 60 s): whoever closes an
    # idle connection should be the client, or a request sent on it just as the server closes
    # it is lost in flight (uvicorn's own default, 5 s, races httpx's).
    http_keep_alive_seconds: int = Field(default=75, ge=1)
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_hours: int = Field(default=12, ge=1, le=24 * 30)
    max_body_bytes: int = 1_000_000
    # The request line and headers: a bearer token and a browser's headers take 1-2 KB; 16 KiB
    # is h11's and Node.js's bound.
    max_header_bytes: int = Field(default=16_384, ge=4096)
    # Threads for CPU-heavy work off the event loop (app/cpu.py): client geometry.
    cpu_threads: int = Field(default=2, ge=1)
    page_limit_default: int = 100
    page_limit_max: int = 1000
    # Connections kept open per worker. Beyond it, as many again are opened on demand and
    # closed on return; each costs a backend start and re-preparing every statement, so a
    # pool smaller than the worker's usual concurrency churns connections under load.
    db_pool_size: int = Field(default=20, ge=1)
    cors_origins: list[str] = Field(default_factory=list)
    basemap_style_url: str | None = Field(
        default=None,
        description="Optional online base map (a MapLibre style URL) the dashboard offers as a "
        "toggle; its origin is added to the Content-Security-Policy. Unset: offline map only.",
    )
    tile_threshold: int = Field(
        default=5000,
        ge=0,
        description="Objects of a collection above which the dashboard draws it from vector "
        "tiles (/api/tiles) rather than as GeoJSON.",
    )
    tile_cache_mb: int = Field(
        default=64, ge=0, description="Memory for the vector tiles an instance keeps built."
    )
    feed_poll_seconds: float = Field(
        default=2.0, gt=0, description="Safety-net poll of the change feed."
    )
    ready_max_lag_seconds: float = Field(
        default=10.0,
        gt=0,
        description="GET /api/ready answers 503 while the oldest change this instance has not "
        "yet handed to its WebSocket clients is older than this.",
    )
    shutdown_timeout_seconds: int = Field(
        default=20,
        ge=1,
        le=3600,
        description="On SIGTERM: the time to close WebSockets (1012), finish in-flight requests "
        "and alert deliveries, and exit; what is still running then is cancelled.",
    )
    ws_queue_size: int = Field(default=1000, ge=10, description="Per-client send queue bound.")
    ws_ping_seconds: float = Field(default=20.0, gt=0)
    ws_hello_timeout_seconds: float = Field(default=5.0, gt=0)
    feed_retention_days: int | None = Field(
        default=None,
        ge=1,
        le=36_500,
        description="Changes older than this are pruned (app.domain.retention); unset keeps "
        "everything.",
    )
    feed_prune_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often the feed is pruned, when it has a retention."
    )
    # Rows examined per pruning transaction: each holds its locks for a fraction of a second.
    feed_prune_batch: int = Field(default=10_000, ge=1)
    # Personal data (docs/privacy.md): how long the personal fields of a closed object are kept,
    # per collection (app.privacy.purge). Unset: kept as long as the object.
    personal_data_incident_days: int | None = Field(
        default=None,
        ge=1,
        le=36_500,
        description="An incident closed longer ago than this has its personal fields (the "
        "description) blanked; unset keeps them.",
    )
    personal_data_logbook_entry_days: int | None = Field(
        default=None,
        ge=1,
        le=36_500,
        description="A logbook entry older than this, on a closed subject and activation, has "
        "its personal fields (title, text) blanked; unset keeps them.",
    )
    personal_data_purge_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often personal data past its retention is purged."
    )
    task_overdue_poll_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often overdue crisis-cell tasks are looked for and escalated (where "
        "alerting runs): an overdue task is escalated within this of its due time.",
    )
    directory_confirm_days: int = Field(
        default=182,
        ge=1,
        le=3650,
        description="How often a partner organisation confirms its contact details (twice a "
        "year); an organisation may have its own period.",
    )
    directory_reminder_days: int = Field(
        default=14,
        ge=0,
        le=365,
        description="How many days before a confirmation falls due its reminder goes out.",
    )
    directory_reminder_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often the directory's reminders are looked for."
    )
    # The watch's shift changes (issue 17, app/reports/shifts.py): local Brussels times of day,
    # written "07:00,19:00"; each handover covers the shift that ends at one of them.
    shift_changes: Annotated[tuple[time, ...], NoDecode] = Field(
        default=(time(7, 0), time(19, 0)),
        description="The watch's shift changes, Europe/Brussels times of day, comma-separated.",
    )
    handover_escalation_minutes: int = Field(
        default=30,
        ge=1,
        le=24 * 60,
        description="A handover not acknowledged this long after its shift change is "
        "escalated to the duty officer.",
    )
    handover_lead_minutes: int = Field(
        default=60,
        ge=0,
        le=12 * 60,
        description="How long before a shift change the dashboard offers the outgoing team its "
        "handover.",
    )
    handover_poll_seconds: float = Field(
        default=30.0, gt=0, description="How often unacknowledged handovers are looked for."
    )
    exercise_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often an instance looks for exercise runs to play that another "
        "instance started or resumed (its own are played at once): an inject is played within "
        "this of its time.",
    )
    feeds_enabled: bool = Field(
        default=True,
        description="Whether this instance polls the external CAP feeds configured under "
        "/api/feeds (one instance at a time polls them, whatever the number running).",
    )
    feeds_tick_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often the feed poller looks for sources due (each source has its own "
        "polling interval).",
    )
    feeds_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="The longest a request to a feed (or a CAP document it links) may take, "
        "from connecting to the last byte.",
    )
    feeds_max_bytes: int = Field(
        default=5_000_000,
        ge=10_000,
        description="The largest feed document read; a larger answer is a failed poll.",
    )
    feeds_max_entries: int = Field(
        default=200,
        ge=1,
        description="The most entries of one feed document handled in one poll (the newest "
        "first); the rest wait for the next.",
    )
    feeds_cap_schema: Path | None = Field(
        default=None,
        description="The OASIS CAP 1.2 XML schema (cap-1.2.xsd): when set, every CAP message "
        "from a feed is also validated against it, besides the CAP ingest's own field checks; a "
        "message that is not valid is refused (counted in the source's health).",
    )
    feeds_max_backoff_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="After failed polls a source is polled again at its interval doubled per "
        "failure, at most this far apart.",
    )
    handover_duty_officer: str | None = Field(
        default=None,
        description="User name of the watch's duty officer, named in a handover's escalation "
        "(besides the holders of a running activation's duty officer seat).",
    )
    local_mode: bool = Field(default=False, description="Set by the self-starting local run only.")
    log_format: Literal["json", "text"] | None = Field(
        default=None,
        description="How `sitcen serve` writes its logs: one JSON object per line (for a log "
        "shipper) or plain text lines; unset, text in local mode and JSON otherwise.",
    )

    @property
    def logs_as(self) -> Literal["json", "text"]:
        """The log format in effect (SITCEN_LOG_FORMAT, else by the mode)."""
        return self.log_format or ("text" if self.local_mode else "json")

    @field_validator("shift_changes", mode="before")
    @classmethod
    def _parse_shift_changes(cls, v: Any) -> Any:
        if isinstance(v, str):
            parts = [p.strip() for p in v.split(",") if p.strip()]
            try:
                v = [time.fromisoformat(p) for p in parts]
            except ValueError as error:
                raise ValueError(
                    'SITCEN_SHIFT_CHANGES takes times of day such as "07:00,19:00"'
                ) from error
        return v

    @field_validator("shift_changes")
    @classmethod
    def _check_shift_changes(cls, v: tuple[time, ...]) -> tuple[time, ...]:
        if not v:
            raise ValueError("SITCEN_SHIFT_CHANGES needs at least one time of day")
        if any(t.tzinfo is not None for t in v):
            raise ValueError("SITCEN_SHIFT_CHANGES are Brussels local times, without an offset")
        if len(set(v)) != len(v):
            raise ValueError("SITCEN_SHIFT_CHANGES lists a time twice")
        return tuple(sorted(t.replace(second=0, microsecond=0) for t in v))

    @field_validator("database_url", "read_database_url")
    @classmethod
    def _normalise_url(cls, v: str | None) -> str | None:
        return asyncpg_url(v) if v else None

    @field_validator("basemap_style_url")
    @classmethod
    def _check_basemap_url(cls, v: str | None) -> str | None:
        if not v:
            return None
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("SITCEN_BASEMAP_STYLE_URL must be an http(s):// URL")
        return v

    @property
    def basemap_origin(self) -> str | None:
        """scheme://host[:port] of the base map style: the one outside origin the page may use."""
        if not self.basemap_style_url:
            return None
        parts = urlsplit(self.basemap_style_url)
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("vapid_private_key")
    @classmethod
    def _check_vapid_key(cls, v: str) -> str:
        """A key that cannot sign is refused at start, not at the first alert."""
        if v.strip():
            from py_vapid import Vapid

            try:
                Vapid.from_string(private_key=v.strip())
            except Exception as e:  # py_vapid raises a variety for a malformed key
                raise ValueError(
                    "SITCEN_VAPID_PRIVATE_KEY is not a P-256 private key (base64url of its "
                    f"32 bytes, or PEM): {type(e).__name__}"
                ) from None
        return v

    @field_validator("vapid_subject")
    @classmethod
    def _check_vapid_subject(cls, v: str) -> str:
        if not v.startswith(("mailto:", "https://")):
            raise ValueError("SITCEN_VAPID_SUBJECT must be a mailto: or https:// URL (RFC 8292)")
        return v

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if not self.local_mode and self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "SITCEN_SECRET_KEY is missing or a placeholder; set a long random value "
                "(e.g. `python -c 'import secrets;print(secrets.token_urlsafe(48))'`)"
            )
        if not self.local_mode and len(self.secret_key) < 32:
            raise ValueError("SITCEN_SECRET_KEY must be at least 32 characters")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
