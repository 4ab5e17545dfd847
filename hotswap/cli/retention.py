"""`hotswap gc`: remove old versions of a model, never one that serves or an abort returns to."""

from __future__ import annotations

import argparse
from typing import Any

from hotswap.cli import CommandError, options
from hotswap.cli.training import check_model_arg
from hotswap.store import retention
from hotswap.store.errors import StoreError
from hotswap.store.layout import ModelPaths


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "gc",
        help="remove all but the newest versions (current, stable, canary and the previous "
        "stable always stay)",
    )
    parser.add_argument("--model", required=True, help="model whose versions to remove")
    parser.add_argument("--keep", type=int, default=5, help="newest versions to keep (default 5)")
    parser.add_argument("--dry-run", action="store_true", help="list what would go, remove none")
    options.add_root_argument(parser)
    parser.set_defaults(func=run_gc)


def run_gc(args: argparse.Namespace) -> int:
    paths = ModelPaths(args.root, check_model_arg(args.model))
    if args.keep < 1:
        raise CommandError(f"--keep {args.keep}: keep at least 1 (the newest version stays)")
    try:
        doomed = retention.select_garbage(paths, keep=args.keep)
        if not args.dry_run:
            retention.collect_garbage(paths, keep=args.keep)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {len(doomed)} version(s) of {paths.model}: {' '.join(doomed) or '-'}")
    return 0
