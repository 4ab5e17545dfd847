"""The process as a container runs it: `python -m hotswap_inference`, SIGTERM ends it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from . import models

STARTUP_BOUND = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_BOUND
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"expected the server ready within {STARTUP_BOUND}s")


def test_sigterm_stops_all_three_servers_with_exit_code_0(root: Path, tmp_path: Path) -> None:
    models.write_routing(root, models.publish_text(root), generation=1)
    ports = [free_port() for _ in range(3)]
    env = os.environ | {"HOTSWAP_MODEL_ROOT": str(root), "HOTSWAP_RELOAD_TOKEN": "t"}
    flags = ["--port", str(ports[0]), "--admin-port", str(ports[1])]
    flags += ["--metrics-port", str(ports[2]), "--model", "intent"]
    log = tmp_path / "stdout"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hotswap_inference", *flags], env=env, stdout=out
        )
    try:
        wait_until_ready(f"http://127.0.0.1:{ports[0]}", process)
        assert httpx.post(f"http://127.0.0.1:{ports[0]}/predict", json={"input": "x"}).is_success
        auth = {"Authorization": "Bearer t"}
        status = httpx.get(f"http://127.0.0.1:{ports[1]}/admin/status", headers=auth)
        assert status.json()["pid"] == process.pid
        assert "hotswap_system_health" in httpx.get(f"http://127.0.0.1:{ports[2]}/").text
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, f"expected exit code 0 after SIGTERM, saw {code}"
    assert '"model_version"' in log.read_text(), "expected a query-log line on stdout"
