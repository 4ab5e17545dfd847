"""`hotswap serve`: run the inference service for one model (serving, admin, metrics ports)."""

from __future__ import annotations

import argparse
from typing import Any

from hotswap_inference import flags, running
from hotswap_inference.settings import SettingsError

from hotswap.cli import CommandError, options


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve a model over HTTP with hot reload",
        description=__doc__,
    )
    options.add_root_argument(parser)
    flags.add_flags(parser, root=False)
    parser.set_defaults(func=serve)


def serve(args: argparse.Namespace) -> int:
    try:
        settings = flags.settings_from_args(args)
    except SettingsError as exc:
        raise CommandError(str(exc)) from exc
    return running.run(settings)
