"""`hotswap demo`: the whole loop on this machine.

On the local control plane by default (cluster, operator, replicas as pods, steps, promote,
rollback); `--no-cluster` runs the data-plane loop alone (the demo plays the operator's part
through the store).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="run the whole loop locally, with progress")
    parser.add_argument("--workdir", type=Path, help="keep models and logs here (default: temp)")
    parser.add_argument(
        "--replicas", type=int, help="inference replicas to start (default 3; 2 with --no-cluster)"
    )
    parser.add_argument(
        "--no-cluster",
        dest="cluster",
        action="store_false",
        help="the data-plane loop only: no control plane, no operator",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Ctrl-C (even where the shell had it ignored) and SIGTERM stop what was started first."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("hotswap demo: interrupted; everything it started is stopped", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    if not args.cluster:
        from hotswap.local import dataplane

        return dataplane.run(args.workdir, count=args.replicas or 2)
    from hotswap.local import demo

    return demo.run(args.workdir, count=args.replicas or 3)


def _exit_cleanly(signum: int, _frame: Any) -> None:
    sys.exit(128 + signum)
