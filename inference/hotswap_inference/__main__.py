"""`python -m hotswap_inference`: serve one model (the same flags as `hotswap serve`)."""

from __future__ import annotations

import argparse
import sys

from hotswap_inference import flags, running
from hotswap_inference.settings import SettingsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotswap_inference", description=__doc__)
    flags.add_flags(parser)
    args = parser.parse_args(argv)
    try:
        chosen = flags.settings_from_args(args)
    except SettingsError as exc:
        print(f"hotswap_inference: {exc}", file=sys.stderr)
        return 2
    return running.run(chosen)


if __name__ == "__main__":
    sys.exit(main())
