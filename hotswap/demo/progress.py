"""One line of progress per event, with the time since the start."""

from __future__ import annotations

import sys
import time
from collections import Counter


class Progress:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def say(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.1f}s] {message}", file=sys.stdout, flush=True)

    def table(self, title: str, counts: Counter[tuple[str, str]]) -> None:
        self.say(title)
        total = sum(counts.values()) or 1
        for (version, arm), n in sorted(counts.items()):
            print(f"           {version:<26} {arm:<7} {n:>7}  {100 * n / total:5.1f}%", flush=True)
