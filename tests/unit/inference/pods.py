"""A pod for tests: the three servers of one process, on loopback, in a thread.

As uvicorn's own tests do: listeners pre-bound to 127.0.0.1 on free ports, the servers run
in a thread with their own event loop, and `stop()` asks them to finish and joins.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from hotswap_inference import running, settings
from hotswap_inference.settings import Settings
from prometheus_client import CollectorRegistry

TOKEN = "test-reload-token"
FEEDBACK_KEY = "test-feedback-key-0123456789"
READY_WITHIN = 15.0


def bind_loopback() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def pod_settings(root: Path, **fields: Any) -> Settings:
    defaults: dict[str, Any] = {
        "model_root": root,
        "model": "intent",
        "reload_token": TOKEN,
        "feedback_key": FEEDBACK_KEY,
        "poll_interval": 0.2,
        "query_log_stdout": False,
    }
    return settings.build_settings(defaults | fields)


class Pod:
    def __init__(self, chosen: Settings) -> None:
        self.settings = chosen
        self.registry = CollectorRegistry()
        self.servers = running.build_servers(chosen, registry=self.registry)
        self.sockets = [bind_loopback() for _ in self.servers]
        serving, admin, metrics = (s.getsockname()[1] for s in self.sockets)
        self.url = f"http://127.0.0.1:{serving}"
        self.admin_url = f"http://127.0.0.1:{admin}"
        self.metrics_url = f"http://127.0.0.1:{metrics}"
        self.service = self.servers[0].config.app.state.service
        self._thread = threading.Thread(target=self._run, name="test-pod", daemon=True)

    def _run(self) -> None:
        asyncio.run(running.serve_servers(self.servers, self.sockets))

    @property
    def loop_thread(self) -> int | None:
        """The id of the thread that runs the pod's event loop."""
        return self._thread.ident

    def start(self) -> Pod:
        self._thread.start()
        deadline = time.monotonic() + READY_WITHIN
        while not all(s.started for s in self.servers):
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test pod did not start: see the log above")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        running.stop_servers(self.servers)
        self._thread.join(timeout=15)
        for sock in self.sockets:
            sock.close()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while httpx.get(f"{self.url}/readyz").status_code != 200:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected /readyz 200 within {READY_WITHIN}s; status: {self.service.report()}"
                )
            time.sleep(0.05)

    def wait_for(self, predicate: Any, what: str) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {what} within {READY_WITHIN}s; status: {self.service.report()}"
                )
            time.sleep(0.05)

    def admin(
        self, method: str, path: str, *, token: str | None = TOKEN, **kw: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return httpx.request(method, f"{self.admin_url}{path}", headers=headers, timeout=30, **kw)

    def __enter__(self) -> Pod:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
