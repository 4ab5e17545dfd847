"""`hotswap cluster up | down | env`: a local kube-apiserver + etcd (see docs/control-plane.md)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from hotswap.cli import CommandError
from hotswap.cluster import applying, building, clusters, starting, stopping, supervising, waiting


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cluster", help="a local control plane (etcd + kube-apiserver) for tests and the demo"
    )
    parser.add_argument("--name", default=clusters.DEFAULT_NAME, help="cluster name")
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="state folder (default: $HOTSWAP_CACHE/clusters/<name>)",
    )
    commands = parser.add_subparsers(dest="cluster_command", required=True, metavar="ACTION")
    up = commands.add_parser("up", help="build once (cached), start, apply crds/, print env")
    up.set_defaults(func=run_up)
    commands.add_parser("down", help="stop what `up` started, remove its data").set_defaults(
        func=run_down
    )
    commands.add_parser("env", help="print `export KUBECONFIG=...`").set_defaults(func=run_env)


def run_up(args: argparse.Namespace) -> int:
    started = time.monotonic()
    try:
        cluster = starting.up(_state_dir(args))
    except (building.BuildError, waiting.StartError, applying.KubectlError) as error:
        raise CommandError(str(error)) from error
    print(f"# control plane up at {cluster.server} in {time.monotonic() - started:.1f}s")
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    return 0


def run_down(args: argparse.Namespace) -> int:
    stopped = stopping.down(_state_dir(args))
    print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


def run_env(args: argparse.Namespace) -> int:
    cluster = clusters.load(_state_dir(args))
    if not supervising.is_running(cluster):
        raise CommandError(f"no control plane running in {cluster.state_dir}: run `cluster up`")
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    return 0


def _state_dir(args: argparse.Namespace) -> Path:
    return Path(args.state_dir or clusters.state_dir_for(args.name))
