"""The external feeds' routers."""

from app.feeds.routes import sources

ROUTERS = (sources.router,)
