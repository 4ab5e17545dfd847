"""Run one inference process: three uvicorn servers (serving, admin, metrics) in one loop.

uvicorn's per-server signal capture is turned off; the runner handles SIGTERM and SIGINT
itself and asks every server to finish its in-flight requests and exit (exit code 0).
Every server bounds its connections (`connections`): head size, deadlines and a count, the
serving port's count within the process's file limit so the admin and metrics ports (and the
probes, by closing idle connections) keep answering when the serving port is flooded.
X-Forwarded-For is read only from `trusted_proxies` (none by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import socket
from collections.abc import Iterator, Sequence
from typing import Literal

import uvicorn
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp

from hotswap_inference import apps, connections, endpoints
from hotswap_inference.services import Service
from hotswap_inference.settings import Settings

log = logging.getLogger(__name__)


class Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the runner (several servers share a loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_servers(settings: Settings, *, registry: CollectorRegistry | None = None) -> list[Server]:
    """Serving, admin and metrics servers, in that order, sharing one `Service`."""
    app = apps.create_app(settings, registry=registry)
    service = app.state.service
    closed = connections.closed_counter(service.metrics.registry)
    small = connections.SMALL_SERVER_CONNECTIONS
    servers: list[tuple[str, ASGIApp, int, int]] = [
        ("serving", app, settings.port, serving_capacity(settings)),
        ("admin", apps.create_admin_app(service), settings.admin_port, small),
        ("metrics", apps.create_metrics_app(service), settings.metrics_port, small),
    ]
    return [
        make_server(
            served,
            settings,
            port=port,
            pool=connections.Pool(policy_of(settings), capacity=cap, closed=closed, server=name),
            lifespan="on" if name == "serving" else "off",
            shortcut=shortcut_of(service) if name == "serving" else None,
        )
        for name, served, port, cap in servers
    ]


def shortcut_of(service: Service) -> connections.Shortcut:
    """`POST /predict` answered from the serving port's parser callbacks when it can be."""
    return connections.Shortcut(
        answer=functools.partial(endpoints.answer_at_once, service),
        max_body_bytes=service.settings.limits.max_body_bytes,
    )


def policy_of(settings: Settings) -> connections.Policy:
    return connections.Policy(
        max_header_bytes=settings.max_header_bytes,
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        keepalive_timeout=settings.keepalive_timeout,
    )


def serving_capacity(settings: Settings) -> int:
    capacity = connections.file_budget(settings.max_connections)
    if capacity < settings.max_connections:
        log.warning(
            "HOTSWAP_MAX_CONNECTIONS=%d lowered to %d: the process may open too few files "
            "(raise `ulimit -n`)",
            settings.max_connections,
            capacity,
        )
    return capacity


def make_server(
    app: ASGIApp,
    settings: Settings,
    *,
    port: int,
    pool: connections.Pool,
    lifespan: Literal["on", "off"] = "off",
    shortcut: connections.Shortcut | None = None,
) -> Server:
    # asyncio, not uvloop: libuv accepts one connection per loop pass, so under load new
    # connections waited up to ~400 ms for their first answer (docs/fastpath.md).
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=port,
        lifespan=lifespan,
        access_log=False,
        log_level="warning",
        loop="asyncio",
        http=connections.protocol_factory(pool, shortcut),
        ws="none",
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies),
    )
    return Server(config)


def stop_servers(servers: Sequence[Server]) -> None:
    for server in servers:
        server.should_exit = True


class StartupFailed(Exception):
    """A server did not start (its port taken, say): uvicorn logged why."""


async def serve_servers(
    servers: Sequence[Server], sockets: Sequence[socket.socket] | None = None
) -> None:
    """Serve until stopped; `sockets` (one per server) are pre-bound listeners, for tests.
    When one server cannot start, the others are stopped and `StartupFailed` raised."""
    binds = [[s] for s in sockets] if sockets else [None] * len(servers)
    tasks = [
        asyncio.ensure_future(serve_one(server, b))
        for server, b in zip(servers, binds, strict=True)
    ]
    try:
        await asyncio.gather(*tasks)
    except StartupFailed:
        stop_servers(servers)
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def serve_one(server: Server, sockets: list[socket.socket] | None) -> None:
    # uvicorn calls sys.exit when a server cannot bind: raised out of a task, SystemExit
    # tears the loop down under the other servers and the process never exits (a thread of
    # the pool waits on), a pod alive that answers nothing.
    try:
        await server.serve(sockets=sockets)
    except SystemExit as exited:
        where = f"{server.config.host}:{server.config.port}"
        raise StartupFailed(f"the server on {where} did not start") from exited


async def serve_until_signal(servers: Sequence[Server]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_servers, servers)
    await serve_servers(servers)


def run(settings: Settings) -> int:
    servers = build_servers(settings)
    # the loop make_server chose (asyncio: see the comment there)
    with asyncio.Runner(loop_factory=servers[0].config.get_loop_factory()) as runner:
        try:
            runner.run(serve_until_signal(servers))
        except StartupFailed as failed:
            log.error("%s: exiting", failed)
            return 1
    return 0
