"""The operator as a process for the e2e tier, so Prometheus can scrape its metrics port.

It needs a cluster: a local control plane (`hotswap.cluster`: etcd and kube-apiserver on
loopback, the project's CRDs applied, built once from Go modules and cached) and the admin
kubeconfig. It watches one namespace and serves metrics on a free port of 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hotswap.cluster import building, starting, stopping
from hotswap.demo import processes


@dataclass
class Operator:
    process: subprocess.Popen[bytes]
    metrics_port: int
    log: Path

    @property
    def metrics_target(self) -> str:
        return f"127.0.0.1:{self.metrics_port}"

    def stop(self) -> None:
        """SIGTERM (kopf stops its watches), then SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def operator_env(kubeconfig: Path, *, model_root: Path, metrics_port: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "KUBECONFIG": str(kubeconfig),
        "HOTSWAP_NAMESPACE": "default",
        "HOTSWAP_MODEL_ROOT": str(model_root),
        "HOTSWAP_RELOAD_TOKEN": "unused-by-this-test",
        "HOTSWAP_OPERATOR_METRICS_HOST": "127.0.0.1",
        "HOTSWAP_OPERATOR_METRICS_PORT": str(metrics_port),
    }


@contextlib.contextmanager
def running(workdir: Path, *, model_root: Path) -> Iterator[Operator]:
    """A control plane in `workdir/cluster` and the operator on it; both stopped at the end."""
    if not building.locate().present:
        print("\nbuilding kube-apiserver and etcd from Go modules (cold: ~10 min on 2 cores)")
    state = workdir / "cluster"
    cluster = starting.up(state)
    try:
        port = processes.free_port()
        env = operator_env(cluster.kubeconfig, model_root=model_root, metrics_port=port)
        log = workdir / "operator.log"
        with log.open("wb") as out:
            command = [sys.executable, "-m", "hotswap_operator"]
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        operator = Operator(process, port, log)
        try:
            yield operator
        finally:
            operator.stop()
    finally:
        stopping.down(state)
