"""The three ASGI apps of one process: serving (8000), admin (8001) and metrics (9189).

`create_app(settings)` builds the serving app; its lifespan starts the mirror thread, the
watcher, whose first poll loads the models, and the loop-lag probe. The admin and metrics apps
share its `Service`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable

from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

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


def request_endpoint(
    endpoint: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """`endpoint` as Starlette recognises a request endpoint: it tells one from an ASGI app by
    `inspect.isfunction`, which a function compiled by mypyc (setup.py: `endpoints` is) is not.
    This module is never compiled, so the coroutine function made here is a plain one."""

    async def call(request: Request) -> Response:
        return await endpoint(request)

    return call


PREDICT = exchanges.Endpoint(endpoints.predict)
SERVING_ROUTES = [  # the two prediction routes first: routes are matched in order
    Route("/predict", PREDICT, methods=["POST"]),
    Route("/v2/models/{name}/infer", exchanges.Endpoint(inferring.infer), methods=["POST"]),
    Route("/feedback", request_endpoint(endpoints.feedback), methods=["POST"]),
    Route("/healthz", request_endpoint(endpoints.healthz)),
    Route("/readyz", request_endpoint(endpoints.readyz)),
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
    # a reload that starts (on a pool thread) has the loop-lag probe watch it closely
    loop = asyncio.get_running_loop()
    service.reloader.starting = functools.partial(
        loop.call_soon_threadsafe, service.lag_probe.hurry
    )
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


class ServingApp(Starlette):
    """Starlette, with `POST /predict` handed to its endpoint inside the same middleware (so
    the same error handling) without the router's scan of the routes."""

    predict_stack: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("path") == "/predict" and scope.get("method") == "POST":
            scope["app"] = self
            if self.predict_stack is None:
                self.predict_stack = self.stack_around(PREDICT)
            await self.predict_stack(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def stack_around(self, endpoint: ASGIApp) -> ASGIApp:
        """Starlette's own middleware stack, around `endpoint` instead of the router."""
        router = self.router
        self.router = endpoint  # type: ignore[assignment]
        try:
            return self.build_middleware_stack()
        finally:
            self.router = router


def create_app(settings: Settings, *, registry: CollectorRegistry | None = None) -> Starlette:
    service = Service(settings, registry=registry or CollectorRegistry())
    app = ServingApp(
        routes=SERVING_ROUTES, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan
    )
    app.state.service = service
    return app


def create_admin_app(service: Service) -> Starlette:
    app = Starlette(routes=ADMIN_ROUTES, exception_handlers=EXCEPTION_HANDLERS)
    app.state.service = service
    return app


def create_metrics_app(service: Service) -> ASGIApp:
    app: ASGIApp = make_asgi_app(service.metrics.registry)
    return app
