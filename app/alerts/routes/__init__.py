"""Alerting's routers: alerts and their acknowledgement link, CAP in, alarm tests, Web Push
devices."""

from app.alerts.routes import alerts, campaigns, cap, push

ROUTERS = (alerts.router, alerts.ack_link_router, cap.router, campaigns.router, push.router)
