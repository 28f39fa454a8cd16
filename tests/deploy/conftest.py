"""Deployment tests (readiness, shutdown, restarts, the proxy): the realtime tests' fixtures
and helpers serve here too."""

from tests.realtime.conftest import extra_servers

__all__ = ["extra_servers"]
