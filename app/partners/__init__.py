"""Partner organisations and what they ask of SITCEN: their SPOCs (contacts), channels,
subscriptions, and who may act for which (access); their routers in `routes`."""
