"""Every table, imported in one place so that Alembic sees the whole schema."""

from __future__ import annotations

from app import audit, background
from app.alerts import models as alert_models
from app.alerts.lifecycle import cap_feed
from app.auth import models as auth_models
from app.auth import throttle
from app.cell import models as cell_models
from app.cell import procedures
from app.db import Base
from app.domain import activation_phases, changes, idempotency, registry
from app.exercises import models as exercise_models
from app.feeds import models as feed_models
from app.geo import reference
from app.partners import models as partner_models
from app.reports import models as report_models

metadata = Base.metadata
__all__ = [
    "activation_phases",
    "alert_models",
    "audit",
    "auth_models",
    "background",
    "cap_feed",
    "cell_models",
    "changes",
    "exercise_models",
    "feed_models",
    "idempotency",
    "metadata",
    "partner_models",
    "procedures",
    "reference",
    "registry",
    "report_models",
    "throttle",
]
