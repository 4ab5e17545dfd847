"""The three ASGI apps of one process: serving (8000), admin (8001) and metrics (9189).

`create_app(settings)` builds the serving app; its lifespan starts the mirror thread, the
watcher, whose first poll loads the models, and the loop-lag probe. The admin and metrics apps
share its `Service`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp

from hotswap_inference import (
    administering,
    dashboards,
    endpoints,
    exchanges,
    inferring,
    lagging,
    watching,
)
from hotswap_inference.errors import EXCEPTION_HANDLERS
from hotswap_inference.services import Service
from hotswap_inference.settings import Settings

SERVING_ROUTES = [  # the two prediction routes first: routes are matched in order
    Route("/predict", exchanges.Endpoint(endpoints.predict), methods=["POST"]),
    Route("/v2/models/{name}/infer", exchanges.Endpoint(inferring.infer), methods=["POST"]),
    Route("/feedback", endpoints.feedback, methods=["POST"]),
    Route("/healthz", endpoints.healthz),
    Route("/readyz", endpoints.readyz),
    Route("/v2", inferring.server_metadata),
    Route("/v2/health/live", inferring.live),
    Route("/v2/health/ready", inferring.ready),
    Route("/v2/models/{name}", inferring.model_metadata),
    Route("/v2/models/{name}/ready", inferring.model_ready),
    *dashboards.ROUTES,  # GET /status and /static/monitoring.html, after the hot routes
]
ADMIN_ROUTES = [
    Route("/admin/reload", administering.reload, methods=["POST"]),
    Route("/admin/status", administering.status),
]


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    service: Service = app.state.service
    service.mirror.start()
    interval = service.settings.poll_interval
    watcher = asyncio.create_task(watching.watch(service.reloader, interval=interval))
    prober = asyncio.create_task(lagging.watch(service.lag_probe))
    try:
        yield
    finally:
        for task in (watcher, prober):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        service.mirror.stop()
        service.querylog.close()


def create_app(settings: Settings, *, registry: CollectorRegistry | None = None) -> Starlette:
    service = Service(settings, registry=registry or CollectorRegistry())
    app = Starlette(routes=SERVING_ROUTES, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    app.state.service = service
    return app


def create_admin_app(service: Service) -> Starlette:
    app = Starlette(routes=ADMIN_ROUTES, exception_handlers=EXCEPTION_HANDLERS)
    app.state.service = service
    return app


def create_metrics_app(service: Service) -> ASGIApp:
    app: ASGIApp = make_asgi_app(service.metrics.registry)
    return app
