"""`hotswap dev up | down`: a playground that stays up (docs/one-machine.md).

`up` starts what `hotswap demo` uses (control plane, the operator as its ServiceAccount, replicas
registered as pods, v1 trained and served through a Canary, v2 trained to try) as one detached
process, prints how to reach it, and returns; `down` stops all of it (safe to run twice).
"""

from __future__ import annotations

import argparse
import shlex
import time
from pathlib import Path
from typing import Any

from hotswap.cli import CommandError
from hotswap.cluster import clusters


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("dev", help="a local playground that stays up (up, down)")
    actions = parser.add_subparsers(dest="dev_command", required=True, metavar="ACTION")
    up = actions.add_parser("up", help="start the playground (or show the running one)")
    up.add_argument("--replicas", type=int, default=3, help="inference replicas (default 3)")
    up.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for it")
    down = actions.add_parser("down", help="stop everything the playground started")
    for action, func in ((up, run_up), (down, run_down)):
        action.add_argument(
            "--workdir",
            type=Path,
            default=clusters.cache_root() / "dev",
            help="state, models and logs (default: $HOTSWAP_CACHE/dev, ~/.cache/hotswap/dev)",
        )
        action.set_defaults(func=func)


def run_up(args: argparse.Namespace) -> int:
    from hotswap.local import detaching

    if not 1 <= args.replicas <= 20:
        raise CommandError(f"--replicas {args.replicas}: give 1-20 (127.0.0.10 and up)")
    started = time.monotonic()
    print(f"# starting the playground in {args.workdir} (log: logs/playground.log there)")
    try:
        playground, fresh = detaching.up(args.workdir, replicas=args.replicas, timeout=args.timeout)
    except detaching.StartError as exc:
        detaching.down(args.workdir)
        raise CommandError(str(exc)) from exc
    took = f"up in {time.monotonic() - started:.0f}s" if fresh else "already up"
    print("\n".join(describe(playground, took=took)))
    return 0


def describe(playground: Any, *, took: str) -> list[str]:
    workdir = shlex.quote(str(playground.workdir))
    lines = [
        f"# playground {took}: namespace {playground.namespace}, Canary {playground.canary} "
        f"(created on {playground.stable})",
        f"export KUBECONFIG={shlex.quote(str(playground.kubeconfig))}",
        "# replicas (pods of the Canary's selector):",
    ]
    for replica in playground.replicas:
        lines.append(
            f"#   {replica.name}: {replica.url}  admin :{replica.admin_port}  "
            f"metrics :{replica.metrics_port}"
        )
    first = playground.replicas[0].url
    lines += [
        "# try:",
        f"kubectl apply -f {shlex.quote(str(playground.try_file))}"
        f"   # roll out {playground.candidate} in steps",
        "kubectl get canaries -w                 # watch it (Ctrl-C to stop watching)",
        f"hotswap status {playground.canary}                  # pods, conditions, history",
        f"hotswap promote {playground.canary}                 # past the pause that waits for it",
        f'curl -s {first}/predict --json \'{{"input": "I would like a pizza"}}\'',
        f"# stop it all: hotswap dev down --workdir {workdir}  (or make dev-down)",
    ]
    return lines


def run_down(args: argparse.Namespace) -> int:
    from hotswap.local import detaching

    stopped = detaching.down(args.workdir)
    print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0
