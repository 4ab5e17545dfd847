"""`hotswap demo`: the whole loop on this machine."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="run the whole loop locally, with progress")
    parser.add_argument("--workdir", type=Path, help="keep models and logs here (default: temp)")
    parser.add_argument("--replicas", type=int, default=2, help="inference replicas to start")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hotswap.demo import dataplane

    return dataplane.run(args.workdir, replicas=args.replicas)
