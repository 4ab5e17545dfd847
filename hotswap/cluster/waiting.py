"""Poll a starting server until it answers, failing early (with its log) if it exits."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from hotswap.cluster import clusters, supervising


class StartError(Exception):
    """A server did not come up; the message ends with the tail of its log."""


def tls_context(cluster: clusters.Cluster) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cluster.pki / "ca.crt"))
    context.load_cert_chain(cluster.pki / "admin.crt", cluster.pki / "admin.key")
    return context


def get(url: str, context: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def until(
    process: clusters.Process, check: Callable[[], bool], *, log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if not supervising.is_alive(process):
            raise StartError(f"{process.name} exited while starting:\n{tail(log)}")
        if time.monotonic() > deadline:
            raise StartError(f"{process.name} not ready after {timeout:.0f}s:\n{tail(log)}")
        time.sleep(0.2)


def etcd_healthy(port: int) -> bool:
    status, body = get(f"http://127.0.0.1:{port}/health")
    return status == 200 and json.loads(body).get("health") == "true"


def apiserver_ready(cluster: clusters.Cluster) -> bool:
    context = tls_context(cluster)
    if get(f"{cluster.server}/readyz", context)[0] != 200:
        return False
    return get(f"{cluster.server}/api/v1/namespaces/default", context)[0] == 200


def tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {log})"
