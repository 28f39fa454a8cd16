"""The application: create_app() wires routers, errors, middleware and the lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import HTMLResponse, Response

from app import errors
from app.alerts import workers as alerting
from app.api import alerts as alerts_api
from app.api import (
    apikeys,
    audit,
    auth,
    changes,
    config,
    features,
    metrics,
    objects,
    openapi,
    organisations,
    reference,
    users,
)
from app.api.responses import json_response
from app.auth.keycache import KeyCache
from app.db import make_engine, make_sessionmaker
from app.domain.changes import head as feed_head
from app.domain.registry import SPECS
from app.domain.retention import FeedPruner
from app.middleware import BodyLimit, QueryText, RequestSession, SecurityHeaders
from app.realtime import ws as realtime
from app.settings import Settings, get_settings

STATIC_DIR = Path(__file__).parent / "static"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = make_engine(settings)
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    app.state.loops = []  # every background loop, for health and metrics (app.background)
    # realtime (issue 4): this instance's change-feed listener and hub
    await realtime.start(app)
    await alerting.start(app)  # alerts (issue 7): evaluator, delivery, escalation, push
    pruner = _feed_pruner(app) if settings.feed_retention_days else None
    # What start-up built (routes, models, compiled statements) lives as long as the process:
    # out of the collector's reach, a full collection no longer walks it. Measured under
    # bench/ingest.py: a full collection paused the event loop ~100 ms before, ~35 ms after.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        if pruner is not None:
            await pruner.loop.stop()
        await alerting.stop(app)
        await realtime.stop(app)
        await engine.dispose()


def _feed_pruner(app: FastAPI) -> FeedPruner:
    """Keeps the change feed to SITCEN_FEED_RETENTION_DAYS (app.domain.retention)."""
    settings: Settings = app.state.settings
    assert settings.feed_retention_days is not None
    pruner = FeedPruner(
        app.state.sessions,
        keep=timedelta(days=settings.feed_retention_days),
        interval_seconds=settings.feed_prune_interval_seconds,
        batch=settings.feed_prune_batch,
        keep_unevaluated=app.state.alert_settings.enabled,
        clock=lambda: datetime.now(UTC),
    )
    pruner.loop.start()
    app.state.loops.append(pruner.loop)
    return pruner


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="sitcen",
        summary="Situational awareness of the Brussels-Capital Region's crisis centre",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.key_cache = KeyCache()
    errors.install(app)
    openapi.install(app)
    app.include_router(config.router)
    app.include_router(auth.router)
    for spec in SPECS:
        app.include_router(objects.object_router(spec, settings))
    app.include_router(changes.router)
    app.include_router(reference.router)
    for features_router in features.routers(settings):  # OGC API – Features for GIS clients
        app.include_router(features_router)
    for admin_router in (users.router, apikeys.router, organisations.router, audit.router):
        app.include_router(admin_router)
    app.include_router(realtime.router)  # realtime (issue 4): /ws and its metrics
    app.include_router(metrics.router)  # Prometheus text format
    for alerts_router in alerts_api.ROUTERS:  # alerts (issue 7), partners, CAP, alarm tests
        app.include_router(alerts_router)

    @app.get("/api/health", tags=["health"], summary="Liveness and database reachability")
    async def health() -> Response:
        async with app.state.sessions() as session:
            head = await feed_head(session)
        return json_response({"status": "ok", "head": head})

    app.mount(
        "/api/docs/assets",
        StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
        name="docs-assets",
    )

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="sitcen API",
            swagger_js_url="/api/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/api/docs/assets/swagger-ui.css",
            swagger_favicon_url="/api/docs/assets/favicon-32x32.png",
        )

    if STATIC_DIR.is_dir():
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="dashboard")

    app.add_middleware(RequestSession)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(QueryText)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "Location"],
        )
    app.add_middleware(SecurityHeaders, basemap_origin=settings.basemap_origin)
    return app
