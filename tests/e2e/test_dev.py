"""`hotswap dev up` then `hotswap dev down`, as a user runs them: the playground stays up after
`up` returns (kubectl through the printed KUBECONFIG lists the Canary, a printed replica answers
a prediction), and after `down` nothing of it listens; `down` again is harmless."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def hotswap(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotswap", *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    workdir = tmp_path_factory.mktemp("dev")
    try:
        up = hotswap("dev", "up", "--workdir", str(workdir), "--replicas", "2", timeout=900)
        assert up.returncode == 0, f"dev up exited {up.returncode}:\n{up.stdout}\n{up.stderr}"
        yield workdir, up.stdout
    finally:
        hotswap("dev", "down", "--workdir", str(workdir), timeout=180)


def printed_kubeconfig(out: str) -> str:
    found = re.search(r"^export KUBECONFIG=(\S+)$", out, re.MULTILINE)
    assert found, f"no `export KUBECONFIG=...` line:\n{out}"
    return found[1]


def printed_replicas(out: str) -> list[tuple[str, int]]:
    found = re.findall(r"^#\s+inference-\d+: http://(127\.0\.0\.\d+):(\d+)", out, re.MULTILINE)
    return [(host, int(port)) for host, port in found]


def test_up_prints_what_to_export_the_replicas_and_what_to_try(
    playground: tuple[Path, str],
) -> None:
    _, out = playground

    assert len(printed_replicas(out)) == 2, out
    assert re.search(r"^kubectl apply -f \S+canary\.yaml", out, re.MULTILINE), out
    assert "kubectl get canaries -w" in out and "hotswap status intent" in out, out


def test_the_printed_kubeconfig_lists_the_ready_canary(playground: tuple[Path, str]) -> None:
    _, out = playground
    env = os.environ | {
        "KUBECONFIG": printed_kubeconfig(out),
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }

    got = subprocess.run(
        ["kubectl", "get", "canaries", "-o", "json"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip

    assert got.returncode == 0, got.stderr
    items = json.loads(got.stdout)["items"]
    ready = {
        c["metadata"]["name"]: [
            x["status"] for x in c["status"]["conditions"] if x["type"] == "Ready"
        ]
        for c in items
    }
    assert ready == {"intent": ["True"]}, ready


def test_a_printed_replica_answers_a_prediction(playground: tuple[Path, str]) -> None:
    _, out = playground
    host, port = printed_replicas(out)[0]
    request = urllib.request.Request(
        f"http://{host}:{port}/predict",
        data=json.dumps({"input": "I would like a pizza"}).encode(),
        headers={"Content-Type": "application/json"},
    )

    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read())
        version = response.headers["X-Model-Version"]

    assert response.status == 200 and body["model_version"] == version, body


def test_down_stops_everything_and_is_safe_twice(playground: tuple[Path, str]) -> None:
    workdir, out = playground
    replicas = printed_replicas(out)
    server = re.search(
        r'"server": "https://127\.0\.0\.1:(\d+)"', Path(printed_kubeconfig(out)).read_text()
    )
    assert server and all(listening(h, p) for h, p in replicas), "the playground is not up"

    first = hotswap("dev", "down", "--workdir", str(workdir), timeout=180)
    second = hotswap("dev", "down", "--workdir", str(workdir), timeout=180)

    assert first.returncode == 0 and "stopped: playground" in first.stdout, first
    assert second.returncode == 0 and "nothing was running" in second.stdout, second
    still = [(h, p) for h, p in [*replicas, ("127.0.0.1", int(server[1]))] if listening(h, p)]
    assert not still, f"still listening after down: {still}"
