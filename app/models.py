"""Every table, imported in one place so that Alembic sees the whole schema."""

from __future__ import annotations

from app import audit, background
from app.alerts import models as alert_models
from app.alerts.lifecycle import cap_feed
from app.auth import models as auth_models
from app.auth import throttle
from app.db import Base
from app.domain import changes, idempotency, registry
from app.geo import reference
from app.partners import models as partner_models

metadata = Base.metadata
__all__ = [
    "alert_models",
    "audit",
    "auth_models",
    "background",
    "cap_feed",
    "changes",
    "idempotency",
    "metadata",
    "partner_models",
    "reference",
    "registry",
    "throttle",
]
