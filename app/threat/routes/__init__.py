"""The national threat level's routers."""

from app.threat.routes import threat_level

ROUTERS = (threat_level.router,)
