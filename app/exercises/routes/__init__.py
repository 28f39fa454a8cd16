"""The exercises' routers: scenarios (upload, list, read, the shipped examples) and runs (start,
control, follow, the after-action report)."""

from app.exercises.routes import runs, scenarios

ROUTERS = (scenarios.router, runs.router)
