"""`kubectl hotswap ...`: the CLI as the kubectl plugin a platform team calls."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.integration.operator import given

BIN = Path(sys.executable).parent


def kubectl(*args: str, kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"KUBECONFIG": str(kubeconfig), "PATH": f"{BIN}:{os.environ['PATH']}"}
    return subprocess.run(
        [str(BIN / "kubectl"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_kubectl_finds_the_plugin_and_reports_the_canary(
    rollout: given.Rollout, control_plane: Any
) -> None:
    namespace = rollout.cluster.namespace
    rollout.create("v1")
    rollout.ready_on("v1")

    plugins = kubectl("plugin", "list", kubeconfig=control_plane.kubeconfig)
    assert "kubectl-hotswap" in plugins.stdout, plugins.stdout + plugins.stderr
    shown = kubectl(
        "hotswap", "status", rollout.name, "-n", namespace, kubeconfig=control_plane.kubeconfig
    )
    assert shown.returncode == 0, shown.stderr
    assert f"stable={rollout.mv('v1')}" in shown.stdout and "Ready=True" in shown.stdout, (
        shown.stdout
    )

    missing = kubectl(
        "hotswap", "promote", "nothing-here", "-n", namespace, kubeconfig=control_plane.kubeconfig
    )
    assert missing.returncode == 2, missing
    assert "Canary nothing-here" in missing.stderr and "not found" in missing.stderr, missing.stderr
