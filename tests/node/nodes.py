"""Helpers of the node tier: kubectl and the hotswap CLI against the node's control plane, stage
timings, what the host sees of a container (its process: UID, root mount), and live traffic to a
Service's ready endpoints. docs/node.md."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hotswap.local import tallies, traffic

REPO = Path(__file__).resolve().parents[2]
KUBECTL = str(REPO / ".venv" / "bin" / "kubectl")
HOTSWAP = str(REPO / ".venv" / "bin" / "hotswap")
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


def hotswap(kubeconfig: Path, *args: str) -> str:
    """The CLI a user runs (`kubectl hotswap ...`), in the hotswap namespace."""
    done = subprocess.run(
        [HOTSWAP, *args, "-n", NAMESPACE],
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"hotswap {' '.join(args)} failed: {done.stderr.strip()}")
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
    pid = task_pid(cid)
    assert pid is not None, f"container {cid} of pod {pod['metadata']['name']} has no task"
    return pid


def task_pid(container_id: str) -> int | None:
    """The host PID of a containerd task, None when it has none."""
    listing = subprocess.run(
        ["ctr", "--address", CONTAINERD, "-n", "k8s.io", "tasks", "ls"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in listing.splitlines():
        fields = line.split()
        if fields and fields[0] == container_id:
            return int(fields[1])
    return None


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


def ready_addresses(kubeconfig: Path, service: str) -> tuple[str, ...]:
    """The ready endpoints' addresses of a Service, from its EndpointSlices."""
    slices = get(kubeconfig, "endpointslices", "-l", f"kubernetes.io/service-name={service}")
    return tuple(
        sorted(
            endpoint["addresses"][0]
            for found in slices["items"]
            for endpoint in found.get("endpoints") or []
            if (endpoint.get("conditions") or {}).get("ready")
        )
    )


class EndpointTraffic:
    """The load loop of hotswap.local.traffic on a Service's ready endpoints, as kube-proxy
    would spread it (it does not run on this node): the EndpointSlices are read every second and
    the load moves to the new address set when it changes (a deleted pod leaves it, a
    replacement joins it once Ready). One Tally over the whole run; bounded by `seconds`."""

    def __init__(
        self, kubeconfig: Path, service: str, *, port: int = 8000, seconds: float = 600
    ) -> None:
        self.kubeconfig, self.service, self.port, self.seconds = kubeconfig, service, port, seconds
        self.tally = tallies.Tally()
        self.target_sets: list[tuple[str, ...]] = []  # each address set the load went to
        self.outages = 0  # times no endpoint was ready once the load had begun
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.follow, name="endpoint-traffic", daemon=True)

    def __enter__(self) -> EndpointTraffic:
        self.thread.start()
        wait(lambda: self.target_sets, timeout=60, what=f"ready endpoints of {self.service}")
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)

    def follow(self) -> None:
        deadline = time.monotonic() + self.seconds
        current: tuple[str, ...] = ()
        load_stop, runner = threading.Event(), None
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                addresses = ready_addresses(self.kubeconfig, self.service)
            except (AssertionError, subprocess.TimeoutExpired):
                addresses = current  # the API server busy for a moment: keep the last set
            if addresses != current:
                load_stop.set()
                if runner is not None:
                    runner.join()
                current, load_stop = addresses, threading.Event()
                self.outages += 0 if addresses or not self.target_sets else 1
                runner = self.start_load(addresses, load_stop, deadline) if addresses else None
            self.stop.wait(1.0)
        load_stop.set()
        if runner is not None:
            runner.join()

    def start_load(
        self, addresses: tuple[str, ...], load_stop: threading.Event, deadline: float
    ) -> threading.Thread:
        self.target_sets.append(addresses)
        load = traffic.Load(
            targets=tuple((address, self.port) for address in addresses),
            requests=10_000_000,
            seconds=max(deadline - time.monotonic(), 1.0),
            threads=2,
            pause=0.02,
        )
        runner = threading.Thread(
            target=traffic.send_traffic, args=(load, self.tally, load_stop), daemon=True
        )
        runner.start()
        return runner


def image_config(archive: Path) -> dict[str, Any]:
    """The image configuration (Docker's `config` object: Entrypoint, User, Healthcheck, ...)
    inside a docker-archive as `tools/build-images.sh` saved it."""
    with tarfile.open(archive) as tar:
        manifest = json.load(_member(tar, "manifest.json"))
        config = json.load(_member(tar, manifest[0]["Config"]))
    return dict(config["config"])


def _member(tar: tarfile.TarFile, name: str) -> Any:
    found = tar.extractfile(name)
    assert found is not None, f"{name} is missing from the image archive"
    return found


def run_container(image: str, name: str, env: dict[str, str], models: Path) -> Any:
    """The image run as a pod runs it, without Kubernetes: containerd and runc, as the image's
    own user (ctr 1.6 has no --user: the image config's USER applies), a read-only root, the
    model folder mounted read-only, the host's loopback network. `ctr run` exits with the
    container's own exit status."""
    argv = [
        "ctr", "--address", CONTAINERD, "-n", "k8s.io", "run", "--rm", "--net-host",
        "--read-only",
        "--mount", f"type=bind,src={models},dst=/models,options=rbind:ro",
        *(arg for key, value in env.items() for arg in ("--env", f"{key}={value}")),
        image, name,
    ]  # fmt: skip
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def signal_container(name: str, signal_name: str) -> None:
    argv = ["ctr", "--address", CONTAINERD, "-n", "k8s.io", "tasks", "kill", "-s", signal_name]
    subprocess.run([*argv, name], check=True, capture_output=True, timeout=30)
