"""Alerting's routers: alerts and their acknowledgement link, CAP in, alarm tests."""

from app.alerts.routes import alerts, campaigns, cap

ROUTERS = (alerts.router, alerts.ack_link_router, cap.router, campaigns.router)
