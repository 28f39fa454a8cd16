"""The reports' routers: SITREPs (generating, approving, reading, printing, sending), hotspot
fiches and police measures, the shift handover, the annual figures, the replay's bookmarks
and report."""

from app.reports.routes import handovers, hotspots, replay, sitreps, stats

ROUTERS = (
    sitreps.router,
    hotspots.router,
    hotspots.measures_router,
    handovers.router,
    stats.router,
    replay.timeline_router,
    replay.router,
)
