"""Options several commands share: where the model volume is."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

ROOT_ENV = "HOTSWAP_MODEL_ROOT"
DEFAULT_ROOT = Path(".hotswap/models")


def default_root() -> Path:
    """$HOTSWAP_MODEL_ROOT when set, else `.hotswap/models` under the working directory."""
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def add_root_argument(parser: argparse.ArgumentParser) -> None:
    """`--root DIR`, the model volume; `args.root` is always a Path."""
    parser.add_argument(
        "--root",
        type=Path,
        default=default_root(),
        help=f"model volume root (default: ${ROOT_ENV}, else {DEFAULT_ROOT})",
    )
