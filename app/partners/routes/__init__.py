"""The partners' routers: organisations, SPOCs and channels, subscriptions, the contact
directory and the contacts a plan names."""

from app.partners.routes import directory, organisations, partners, subscriptions

ROUTERS = (
    organisations.router,
    partners.router,
    subscriptions.router,
    directory.router,
    directory.plans_router,
)
