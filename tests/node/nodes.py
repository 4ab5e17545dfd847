"""Helpers of the node tier: kubectl against the node's control plane, stage timings, what the
host sees of a container (its process: UID, root mount). docs/node.md."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
KUBECTL = str(REPO / ".venv" / "bin" / "kubectl")
SCRIPT = REPO / "tools" / "node.sh"
NAMESPACE = "hotswap"
CONTAINERD = "/run/hotswap-node/containerd.sock"


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Print how long a stage took (figures for docs/node.md; never asserted)."""
    started = time.monotonic()
    try:
        yield
    finally:
        print(f"\n[node stage] {name}: {time.monotonic() - started:.1f}s", flush=True)


def kubectl(kubeconfig: Path, *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [KUBECTL, f"--kubeconfig={kubeconfig}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def whoami(kubeconfig: Path, token: str) -> str:
    """The user the API server sees for a bearer token alone (no client certificate sent: the
    admin kubeconfig's certificate would authenticate first)."""
    config = json.loads(kubeconfig.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    ca = kubeconfig.parent / "pki" / "ca.crt"
    done = subprocess.run(
        [
            KUBECTL,
            "--kubeconfig=/dev/null",
            f"--server={server}",
            f"--certificate-authority={ca}",
            f"--token={token}",
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"kubectl auth whoami with the token failed: {done.stderr}"
    return done.stdout


def get(kubeconfig: Path, *args: str) -> dict[str, Any]:
    return dict(json.loads(kubectl(kubeconfig, "get", "-n", NAMESPACE, "-o", "json", *args)))


def pods(kubeconfig: Path, name: str) -> list[dict[str, Any]]:
    """Running pods labelled app.kubernetes.io/name=<name>."""
    items = get(kubeconfig, "pods", "-l", f"app.kubernetes.io/name={name}")["items"]
    return [p for p in items if p["status"].get("phase") == "Running"]


def ready(pod: dict[str, Any]) -> bool:
    conditions = pod["status"].get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def wait(check: Any, *, timeout: float, what: str, every: float = 1.0) -> Any:
    """The first truthy result of `check()` within `timeout` s; else fail naming `what`."""
    deadline, seen = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        seen = check()
        if seen:
            return seen
        time.sleep(every)
    raise AssertionError(f"expected {what} within {timeout:.0f}s; last saw {seen!r}")


def container_pid(pod: dict[str, Any], container: str) -> int:
    """The host PID of a container's process, from containerd (the kubelet's runtime)."""
    statuses = pod["status"]["containerStatuses"]
    cid = next(s["containerID"] for s in statuses if s["name"] == container).split("://")[1]
    listing = subprocess.run(
        ["ctr", "--address", CONTAINERD, "-n", "k8s.io", "tasks", "ls"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in listing.splitlines():
        fields = line.split()
        if fields and fields[0] == cid:
            return int(fields[1])
    raise AssertionError(f"container {cid} of pod {pod['metadata']['name']} has no task")


def process_uids(pid: int) -> list[int]:
    """Real, effective, saved and filesystem UIDs of a host process."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^Uid:\s+(.*)$", status, re.MULTILINE)
    assert found, f"no Uid line in /proc/{pid}/status"
    return [int(uid) for uid in found.group(1).split()]


def root_mount_options(pid: int) -> set[str]:
    """The mount options of `/` as the process sees it."""
    for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
        fields = line.split()
        if fields[4] == "/":
            return set(fields[5].split(","))
    raise AssertionError(f"no root mount in /proc/{pid}/mountinfo")


def admin_status(ip: str, token: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://{ip}:8001/admin/status", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return dict(json.loads(response.read()))


def predict(ip: str, text: str = "I want to book a flight") -> tuple[int, str]:
    """(HTTP status, X-Model-Version) of one prediction sent to a pod IP."""
    body = json.dumps({"input": text}).encode()
    request = urllib.request.Request(
        f"http://{ip}:8000/predict", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("X-Model-Version", "")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
