"""The operator as a local process (`python -m hotswap_operator`): start, stop, kill.

It gets a clean environment: the kubeconfig it runs as (the RBAC identity of
`authorizing.create_operator_kubeconfig`, or any other), the namespace it watches, the model
volume, the pods' reload token, and its metrics port on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from hotswap_operator import faults

from hotswap.local import replicas


def operator_env(
    kubeconfig: Path,
    *,
    namespace: str,
    model_root: Path,
    token: str,
    metrics_port: int,
    tick_seconds: float = 0.5,
    store: str | None = None,
) -> dict[str, str]:
    """The operator's environment; with a bucket `store`, `model_root` is its cache and the
    AWS_* variables of this process (endpoint, credentials, region) are passed on."""
    aws = {k: v for k, v in os.environ.items() if k.startswith("AWS_")} if store else {}
    return (
        aws
        | ({"HOTSWAP_STORE": store} if store else {})
        | {
            "PATH": os.environ.get("PATH", ""),
            "KUBECONFIG": str(kubeconfig),
            "HOTSWAP_NAMESPACE": namespace,
            "HOTSWAP_MODEL_ROOT": str(model_root),
            "HOTSWAP_RELOAD_TOKEN": token,
            "HOTSWAP_OPERATOR_METRICS_HOST": "127.0.0.1",
            "HOTSWAP_OPERATOR_METRICS_PORT": str(metrics_port),
            "HOTSWAP_OPERATOR_TICK_SECONDS": str(tick_seconds),
        }
    )


class Operator:
    """The operator subprocess; `kill()` is SIGKILL, `start()` starts a fresh one (same log)."""

    def __init__(self, env: dict[str, str], log: Path, *, verbose: bool = True) -> None:
        self.env, self.log, self.verbose = env, log, verbose
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def metrics_target(self) -> str:
        return f"127.0.0.1:{self.env['HOTSWAP_OPERATOR_METRICS_PORT']}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> Operator:
        argv = [sys.executable, "-m", "hotswap_operator", *(["--verbose"] if self.verbose else [])]
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                argv, stdout=handle, stderr=subprocess.STDOUT, env=self.env
            )
        return self

    def wait(self, timeout: float) -> int:
        """The exit code once the process ended (negative: killed by that signal)."""
        if self.process is None:
            raise RuntimeError("the operator was never started")
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (kopf stops its watches and daemons), then SIGKILL if it does not exit."""
        if self.running and self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def armable(operator: Operator, *, fault_file: Path, marker: Path) -> Operator:
    """`operator` (same identity, ports and log) that SIGKILLs itself at the point named in
    `fault_file` when it crosses it (operator/hotswap_operator/faults.py; the file is read at
    each crossing, absent or empty is off), after appending a JSON line to `marker`."""
    env = operator.env | {faults.FAULT_FILE: str(fault_file), faults.FAULT_MARKER: str(marker)}
    return Operator(env, operator.log, verbose=operator.verbose)


def start_operator(
    kubeconfig: Path,
    *,
    namespace: str,
    model_root: Path,
    token: str,
    log: Path,
    extra: Mapping[str, str] | None = None,
) -> Operator:
    """The operator process; `extra` settings (HOTSWAP_*) on top of `operator_env`'s."""
    port = replicas.free_port()
    env = operator_env(
        kubeconfig, namespace=namespace, model_root=model_root, token=token, metrics_port=port
    )
    return Operator(env | dict(extra or {}), log).start()
