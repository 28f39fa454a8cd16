"""The planning desk's routes: conflicts (list, acknowledge) and the exercise calendar."""

from app.planning.routes import calendar, conflicts

ROUTERS = (conflicts.router, calendar.router)
