"""The partners' routers: organisations, SPOCs and channels, subscriptions."""

from app.partners.routes import organisations, partners, subscriptions

ROUTERS = (organisations.router, partners.router, subscriptions.router)
