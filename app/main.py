"""The application: create_app() wires routers, errors, middleware and the lifespan."""

from __future__ import annotations

import gc
import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import HTMLResponse, Response
from starlette.routing import Match, Mount
from starlette.staticfiles import PathLike
from starlette.types import Scope

from app import errors
from app.alerts import routes as alert_routes
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
    records,
    reference,
    stream,
    tiles,
    users,
)
from app.api.deps import RuntimeDep
from app.api.responses import json_response
from app.api.routing import Route
from app.cell import routes as cell_routes
from app.documents import routes as document_routes
from app.documents.settings import get_document_settings
from app.domain.changes import head as feed_head
from app.domain.registry import SPECS
from app.exchange import routes as exchange_routes
from app.exchange.settings import get_exchange_settings
from app.exercises import routes as exercise_routes
from app.feeds import routes as feed_routes
from app.metrics import Metrics
from app.middleware import BodyLimit, QueryText, RequestLog, RequestSession, SecurityHeaders
from app.partners import routes as partner_routes
from app.planning import routes as planning_routes
from app.privacy import routes as privacy_routes
from app.reports import routes as report_routes
from app.runtime import Runtime
from app.settings import Settings, get_settings
from app.threat import routes as threat_routes

STATIC_DIR = Path(__file__).parent / "static"
UPLOADS = re.compile(r"^/api/documents(?:/[^/]+/versions)?$")
IMPORTS = re.compile(r"^/api/imports/[^/]+$")
FIELD_REPORTS = re.compile(r"^/api/field-reports$")


class Dashboard(Mount):
    """The dashboard's files at "/", for every path but the API's. A file server answers 405
    (`Allow: GET, HEAD`) to any other method: mounted over /api, it answered a POST to an API
    path with no route (a malformed id such as `a%2Fb`) or a method a route lacks. Left to the
    router, those answer as the API does: 404, or 405 naming the route's own methods."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        if path == "/api" or path.startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)


class DashboardFiles(StaticFiles):
    """The built dashboard's files, with what an installable app needs (docs/mobile.md): the
    manifest as `application/manifest+json`, and the files that name the others (the service
    worker, the page, the manifest) revalidated at every load (`no-cache`), so a new version is
    found at once. The service worker is /sw.js: its default scope, `/`, covers the whole app and
    needs no `Service-Worker-Allowed`."""

    REVALIDATED = frozenset({"sw.js", "index.html", "manifest.webmanifest"})

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        name = os.path.basename(full_path)
        if name.endswith(".webmanifest"):
            response.headers["content-type"] = "application/manifest+json"
        if name in self.REVALIDATED:
            response.headers["cache-control"] = "no-cache"
        return response


def lifespan(
    settings: Settings, registry: Metrics
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: this instance's runtime (app.runtime), started before the first
    request and stopped after the last, its counters in the app's metrics."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.build(settings, registry)
        collector = metrics.RuntimeCollector(runtime)
        registry.register(collector)
        await runtime.start()
        app.state.runtime = runtime  # read through app.api.deps.runtime_of, nowhere else
        # What start-up built (routes, models, compiled statements) lives as long as the
        # process: out of the collector's reach, a full collection no longer walks it. Measured
        # under bench/ingest.py: a full collection paused the event loop ~100 ms before, ~35 ms
        # after.
        gc.collect()
        gc.freeze()
        # A Feature of 10,000 vertices arrives as 10,000 lists. With the default threshold (700
        # allocations) young collections ran while they were alive and aged them into the
        # oldest generation, and every second or third such request paid a full collection:
        # 35-80 ms in which no other client is served (the collector holds the GIL). Freed by
        # reference counting once answered, they need no collector: collecting every 100,000
        # net allocations left one 50 ms pause in 120 such requests (measured as in
        # tests/api/test_heavy_input.py).
        gc.set_threshold(100_000, 10, 10)
        try:
            yield
        finally:
            await runtime.stop()
            registry.unregister(collector)

    return run


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # This app's registry (app.metrics): the request middleware observes into it from the
    # first request, the runtime once the lifespan has built it.
    registry = Metrics(settings.ws_queue_size)
    app = FastAPI(
        title="sitcen",
        summary="Situational awareness of the Brussels-Capital Region's crisis centre",
        version="0.1.0",
        lifespan=lifespan(settings, registry),
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.router.route_class = Route  # for the routes declared here, as for every router's
    errors.install(app)
    openapi.install(app)
    app.include_router(config.router(settings))
    app.include_router(auth.router)
    for spec in SPECS:
        app.include_router(objects.object_router(spec, settings))
    app.include_router(records.router)  # the cell's decision chain and logbooks (issue 16)
    app.include_router(changes.router)
    app.include_router(reference.router)
    for features_router in features.routers(settings):  # OGC API – Features for GIS clients
        app.include_router(features_router)
    for tiles_router in tiles.routers(settings):  # vector tiles, TileJSON, the compact load
        app.include_router(tiles_router)
    for admin_router in (users.router, apikeys.router, audit.router):
        app.include_router(admin_router)
    app.include_router(stream.router)  # realtime (issue 4): /ws
    app.include_router(metrics.router)  # this instance's counters, Prometheus and JSON
    # Each package's routers: partners (organisations, SPOCs, channels, subscriptions), then
    # alerting (alerts and their acknowledgement link, CAP in, alarm tests), the crisis cell,
    # the reports (issue 17: SITREPs, hotspot fiches, shift handovers, the annual figures).
    for package_router in (
        *partner_routes.ROUTERS,
        *alert_routes.ROUTERS,
        *cell_routes.ROUTERS,
        *report_routes.ROUTERS,
        *threat_routes.ROUTERS,
    ):
        app.include_router(package_router)
    for document_router in document_routes.ROUTERS:  # the documents' files (issue 16)
        app.include_router(document_router)
    for package_router in exchange_routes.ROUTERS:  # exports and imports (issue 17)
        app.include_router(package_router)
    for package_router in planning_routes.ROUTERS:  # conflicts, exercise calendar (issue 18)
        app.include_router(package_router)
    for package_router in exercise_routes.ROUTERS:  # exercise scenarios and runs (issue 18)
        app.include_router(package_router)
    for package_router in feed_routes.ROUTERS:  # external CAP feeds (issue 20)
        app.include_router(package_router)
    for package_router in privacy_routes.ROUTERS:  # subject-access export (issue 20)
        app.include_router(package_router)

    @app.get("/api/health", tags=["health"], summary="Liveness and database reachability")
    async def health(runtime: RuntimeDep) -> Response:
        async with runtime.sessions() as session:
            head = await feed_head(session)
        return json_response({"status": "ok", "head": head})

    @app.get(
        "/api/ready",
        tags=["health"],
        summary="Readiness: whether a load balancer should send this instance traffic",
        description="200 while the database answers, this instance's change-feed listener is "
        "connected and at most SITCEN_READY_MAX_LAG_SECONDS behind, and the instance is not "
        "shutting down; otherwise 503 `not-ready` saying which. `/api/health` is liveness: "
        "the process answers.",
    )
    async def ready(runtime: RuntimeDep) -> Response:
        why = await runtime.readiness()
        if why is not None:
            raise errors.not_ready(why)
        return json_response({"status": "ready"})

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
        app.router.routes.append(
            Dashboard("/", DashboardFiles(directory=STATIC_DIR, html=True), name="dashboard")
        )

    app.add_middleware(RequestSession)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        # A document's file streams to its store: its own, larger, limit.
        streamed=(
            (UPLOADS, get_document_settings().max_bytes),
            (IMPORTS, get_exchange_settings().import_max_bytes),  # an import file's own limit
            (FIELD_REPORTS, get_document_settings().photo_max_bytes),  # a report's photo
        ),
    )
    app.add_middleware(QueryText)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "Location", "X-Request-Id"],
        )
    app.add_middleware(SecurityHeaders, basemap_origin=settings.basemap_origin)
    # Outermost: the request's id and its log line, its duration covering every other layer.
    app.add_middleware(RequestLog, metrics=registry)
    return app
