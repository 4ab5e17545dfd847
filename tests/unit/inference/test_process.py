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

from hotswap.local.replicas import free_ports

from . import models

STARTUP_BOUND = 30.0


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
    ports = free_ports(3)
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


def test_a_port_taken_ends_the_process_with_exit_code_1_and_frees_the_others(
    root: Path, tmp_path: Path
) -> None:
    """The serving port is held by another listener: the admin and metrics servers start
    while the serving one runs its startup (the model watch), then it cannot bind. The
    process exits 1 saying so. Before, uvicorn's sys.exit tore the loop down under the
    other two and the process never exited (a worker thread of the watch waited on), alive,
    its admin port accepting connections and answering none: a local demo pod whose serving
    and metrics ports were given the same number did so for 60 s."""
    ports = free_ports(3)
    env = os.environ | {"HOTSWAP_MODEL_ROOT": str(root), "HOTSWAP_RELOAD_TOKEN": "t"}
    flags = ["--port", str(ports[0]), "--admin-port", str(ports[1])]
    flags += ["--metrics-port", str(ports[2]), "--model", "intent"]
    with socket.create_server(("127.0.0.1", ports[0])):
        process = subprocess.run(
            [sys.executable, "-m", "hotswap_inference", *flags],
            env=env,
            capture_output=True,
            text=True,
            timeout=STARTUP_BOUND,
            check=False,
        )
    assert process.returncode == 1, process.stderr
    assert f"127.0.0.1:{ports[0]} did not start" in process.stderr, process.stderr
    assert "address already in use" in process.stderr, process.stderr
    for port in ports[1:]:  # free again once the process is gone
        with socket.create_server(("127.0.0.1", port)):
            pass


def test_a_failed_startup_of_the_serving_app_ends_the_process_with_exit_code_1(
    root: Path,
) -> None:
    """The serving app's startup raises (its mirror thread cannot start): uvicorn gives up on
    that server; the admin and metrics servers are stopped with it and the process exits 1,
    so the kubelet restarts it, instead of a pod that answers probes and serves nothing."""
    ports = free_ports(3)
    code = (
        "import sys\nfrom hotswap_inference import mirroring, __main__\n"
        "def broken(self): raise RuntimeError('the mirror thread cannot start')\n"
        "mirroring.Mirror.start = broken\nsys.exit(__main__.main(sys.argv[1:]))"
    )
    flags = [f"--port={ports[0]}", f"--admin-port={ports[1]}", f"--metrics-port={ports[2]}"]
    env = os.environ | {"HOTSWAP_MODEL_ROOT": str(root), "HOTSWAP_RELOAD_TOKEN": "t"}
    done = subprocess.run(
        [sys.executable, "-c", code, *flags],
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_BOUND,
        check=False,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "the mirror thread cannot start" in done.stderr, done.stderr[-2000:]
    assert "Application startup failed" in done.stderr, done.stderr[-2000:]
