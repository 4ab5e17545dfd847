"""The `hotswap` command (also installed as the kubectl plugin `kubectl-hotswap`).

Each sub-command lives in a module of this package that exposes
`register(subparsers)`; the module is imported only when the command line names it, so a
data-plane install (no kopf, no kubernetes client) still runs `hotswap train` and `serve`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

# command name -> module (relative to this package) that registers it.
COMMANDS: dict[str, str] = {
    "train": "training",
    "versions": "training",
    "gc": "retention",
    "serve": "serving",
    "cluster": "cluster",
    "demo": "demo",
    "status": "rollouts",
    "deploy": "rollouts",
    "promote": "rollouts",
    "abort": "rollouts",
    "rollback": "rollouts",
    "operator": "rollouts",
    "local": "local",
    "dev": "dev",
}


class CommandError(Exception):
    """A user-facing failure: printed without a traceback, exit code 2."""


class ExactParser(argparse.ArgumentParser):
    """No abbreviated flags: `--reload-token` must not silently mean `--reload-token-file`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)


def build_parser(names: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotswap", description=__doc__.splitlines()[0], allow_abbrev=False
    )
    subparsers = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=ExactParser
    )
    loaded: set[str] = set()
    for name in names:
        module_name = COMMANDS[name]
        if module_name in loaded:
            continue
        loaded.add(module_name)
        module = importlib.import_module(f"{__name__}.{module_name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    wanted = [a for a in args_in[:1] if a in COMMANDS] or list(COMMANDS)
    parser = build_parser(_importable(wanted))
    args = parser.parse_args(args_in)
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"hotswap: {exc}", file=sys.stderr)
        return 2


def _importable(names: Sequence[str]) -> list[str]:
    """Commands whose modules import here (a missing optional extra hides a command)."""
    found = []
    for name in names:
        try:
            importlib.import_module(f"{__name__}.{COMMANDS[name]}")
        except ImportError:
            continue
        found.append(name)
    return found
