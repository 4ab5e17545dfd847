"""Run one inference process: three uvicorn servers (serving, admin, metrics) in one loop.

uvicorn's per-server signal capture is turned off; the runner handles SIGTERM and SIGINT
itself and asks every server to finish its in-flight requests and exit (exit code 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Iterator, Sequence
from typing import Literal

import uvicorn
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp

from hotswap_inference import apps
from hotswap_inference.settings import Settings


class Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the runner (several servers share a loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_servers(settings: Settings, *, registry: CollectorRegistry | None = None) -> list[Server]:
    """Serving, admin and metrics servers, in that order, sharing one `Service`."""
    app = apps.create_app(settings, registry=registry)
    service = app.state.service
    return [
        make_server(app, settings.host, settings.port, lifespan="on"),
        make_server(apps.create_admin_app(service), settings.host, settings.admin_port),
        make_server(apps.create_metrics_app(service), settings.host, settings.metrics_port),
    ]


def make_server(
    app: ASGIApp, host: str, port: int, *, lifespan: Literal["on", "off"] = "off"
) -> Server:
    # asyncio, not uvloop: libuv accepts one connection per loop pass, so under load new
    # connections waited up to ~400 ms for their first answer (docs/fastpath.md).
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan=lifespan,
        access_log=False,
        log_level="warning",
        loop="asyncio",
    )
    return Server(config)


def stop_servers(servers: Sequence[Server]) -> None:
    for server in servers:
        server.should_exit = True


async def serve_servers(
    servers: Sequence[Server], sockets: Sequence[socket.socket] | None = None
) -> None:
    """Serve until stopped; `sockets` (one per server) are pre-bound listeners, for tests."""
    binds = [[s] for s in sockets] if sockets else [None] * len(servers)
    await asyncio.gather(
        *(server.serve(sockets=b) for server, b in zip(servers, binds, strict=True))
    )


async def serve_until_signal(servers: Sequence[Server]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_servers, servers)
    await serve_servers(servers)


def run(settings: Settings) -> int:
    servers = build_servers(settings)
    # the loop make_server chose (asyncio: see the comment there)
    with asyncio.Runner(loop_factory=servers[0].config.get_loop_factory()) as runner:
        runner.run(serve_until_signal(servers))
    return 0
