"""The roles a user or an API key holds. What each may do is the permission table's
(app.auth.permissions); what each sees of the objects, the scope that table gives it
(app.domain.visibility)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    operator = "operator"
    coordinator = "coordinator"
    official = "official"
    partner = "partner"
    dispatch = "dispatch"
    admin = "admin"
