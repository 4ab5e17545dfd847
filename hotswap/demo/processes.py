"""Inference replicas as local processes on loopback: start, wait until ready, stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Replica:
    name: str
    host: str
    port: int
    admin_port: int
    metrics_port: int
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def admin_status(self) -> dict[str, Any]:
        request = urllib.request.Request(
            f"http://{self.host}:{self.admin_port}/admin/status",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            body: dict[str, Any] = json.loads(response.read())
            return body


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def spawn_replica(
    root: Path, model: str, *, name: str, token: str, log_dir: Path, host: str = "127.0.0.1"
) -> Replica:
    ports = [free_port(host) for _ in range(3)]
    log = log_dir / f"{name}.log"
    command = [
        sys.executable, "-m", "hotswap", "serve",
        "--root", str(root), "--model", model, "--host", host,
        "--port", str(ports[0]), "--admin-port", str(ports[1]), "--metrics-port", str(ports[2]),
        "--poll-interval", "0.5",
        "--query-log-file", str(log_dir / f"{name}.queries.jsonl"), "--no-query-log-stdout",
    ]  # fmt: skip
    with open(log, "wb") as out:
        env = {**os.environ, "HOTSWAP_RELOAD_TOKEN": token}  # never a flag: it would show in ps
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    return Replica(name, host, ports[0], ports[1], ports[2], token, process, log)


def wait_ready(replica: Replica, timeout: float = 60.0) -> None:
    """Wait until /readyz answers 200 (a model is loaded); fail fast if the process exits."""
    deadline = time.monotonic() + timeout
    url = f"http://{replica.host}:{replica.port}/readyz"
    while time.monotonic() < deadline:
        if replica.process.poll() is not None:
            raise RuntimeError(f"{replica.name} exited: see {replica.log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:  # 503 until a model is loaded
            exc.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{replica.name} not ready after {timeout:.0f}s: see {replica.log}")


def stop_replica(replica: Replica, timeout: float = 15.0) -> None:
    """SIGTERM (the server drains), then SIGKILL if it does not exit in time."""
    if replica.process.poll() is None:
        replica.process.send_signal(signal.SIGTERM)
        try:
            replica.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            replica.process.kill()
            replica.process.wait()
