"""The exports' and imports' routers: one of each per collection."""

from app.exchange.routes import exports, imports

ROUTERS = (*exports.ROUTERS, *imports.ROUTERS)
