"""The personal-data routers: the subject-access export (admins)."""

from app.privacy.routes import subject_access

ROUTERS = (subject_access.router,)
