"""Inference replicas as local processes on loopback: spawn, wait until listening or ready, stop.

One replica is `python -m hotswap_inference` on one 127.0.0.x address with its serving, admin
and metrics ports; the reload token goes through the environment, never a flag (`ps` shows
flags).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
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
    command: list[str] = field(default_factory=list)  # how `restart_replica` starts it again
    env: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def target(self) -> tuple[str, int]:
        """(host, serving port): where a client sends requests."""
        return self.host, self.port

    def admin_status(self, timeout: float = 5.0) -> dict[str, Any]:
        request = urllib.request.Request(
            f"http://{self.host}:{self.admin_port}/admin/status",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: dict[str, Any] = json.loads(response.read())
            return body


def free_port(host: str = "127.0.0.1") -> int:
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports free on `host` now: every socket stays bound until all are
    chosen (the kernel may hand a just-closed port out again: one server's two ports would
    then be the same, and its second server could not bind)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def spawn_replica(
    root: Path,
    model: str,
    *,
    name: str,
    token: str,
    log_dir: Path,
    host: str = "127.0.0.1",
    ports: tuple[int, int, int] | None = None,
    poll_interval: float = 0.5,
    store: str | None = None,
) -> Replica:
    """Start one replica; `ports` (serving, admin, metrics) default to free ones on `host`.
    With a bucket `store` (s3://...), `root` is the replica's own cache (credentials from the
    AWS environment this process has)."""
    if not host.startswith("127."):
        raise ValueError(f"replica host {host!r} is not loopback: use a 127.0.0.x address")
    port, admin, metrics = ports or free_ports(3, host)
    command = [
        sys.executable, "-m", "hotswap_inference",
        f"--model-root={root}", f"--model={model}", f"--host={host}",
        f"--port={port}", f"--admin-port={admin}", f"--metrics-port={metrics}",
        f"--poll-interval={poll_interval}",
        f"--query-log-file={log_dir / f'{name}.queries.jsonl'}", "--no-query-log-stdout",
        *([f"--store={store}"] if store else []),
    ]  # fmt: skip
    log = log_dir / f"{name}.log"
    env = {**os.environ, "HOTSWAP_RELOAD_TOKEN": token, "HOTSWAP_FEEDBACK_KEY": feedback_key(token)}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    return Replica(name, host, port, admin, metrics, token, process, log, command, env)


def restart_replica(replica: Replica) -> None:
    """Start an exited (or killed) replica again with the same command, address and ports, as
    a kubelet restarts a container in the same pod; its log goes on."""
    if replica.process.poll() is None:
        raise RuntimeError(f"{replica.name} is still running (pid {replica.process.pid})")
    with replica.log.open("ab") as out:
        replica.process = subprocess.Popen(
            replica.command, stdout=out, stderr=subprocess.STDOUT, env=replica.env
        )


def freeze(replica: Replica) -> None:
    """SIGSTOP: every port of the replica stops answering (connections queue, unanswered)."""
    replica.process.send_signal(signal.SIGSTOP)


def thaw(replica: Replica) -> None:
    replica.process.send_signal(signal.SIGCONT)


def state_of(replica: Replica) -> str:
    """The process state letter of /proc/<pid>/stat: R, S, ... or T when stopped."""
    stat = Path(f"/proc/{replica.process.pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0]


def open_files(replica: Replica) -> list[str]:
    """The paths the replica's process has open now (its /proc/<pid>/fd links)."""
    found = []
    for link in Path(f"/proc/{replica.process.pid}/fd").iterdir():
        try:
            found.append(os.readlink(link))
        except OSError:  # closed meanwhile
            continue
    return found


def feedback_key(token: str) -> str:
    """The feedback key every replica of one local environment shares (they share its token)."""
    return hashlib.sha256(f"hotswap feedback key of {token}".encode()).hexdigest()


def wait_ready(replica: Replica, timeout: float = 60.0) -> None:
    """Until /readyz answers 200 (a model is loaded); fails fast if the process exits."""
    url = f"http://{replica.host}:{replica.port}/readyz"
    _wait(replica, lambda: _answers_200(url), timeout=timeout, what="ready")


def wait_listening(replica: Replica, timeout: float = 60.0) -> None:
    """Until the admin port accepts connections (the replica may serve no model yet)."""
    _wait(replica, lambda: is_listening(replica.host, replica.admin_port), timeout, "listening")


def _wait(replica: Replica, check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replica.process.poll() is not None:
            raise RuntimeError(f"{replica.name} exited: see {replica.log}")
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{replica.name} not {what} after {timeout:.0f}s: see {replica.log}")


def _answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError as exc:  # 503 until a model is loaded
        exc.close()
    except OSError:
        pass
    return False


def is_listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def stop_replica(replica: Replica, timeout: float = 15.0) -> None:
    """SIGTERM (the server drains), then SIGKILL if it does not exit in time."""
    if replica.process.poll() is None:
        replica.process.send_signal(signal.SIGTERM)
        try:
            replica.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            replica.process.kill()
            replica.process.wait()
