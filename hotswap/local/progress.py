"""One line of progress per event, with the time since the start; tables of answers."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from hotswap.local.traffic import LiveTraffic


class Progress:
    """Writes to the stream it was made with (a later redirect of sys.stdout does not catch it);
    lines from several threads never interleave."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.started = time.monotonic()
        self.out = out or sys.stdout
        self.lock = threading.Lock()

    def say(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        self._write([f"[{elapsed:6.1f}s] {message}"])

    def table(self, title: str, counts: Counter[tuple[str, str]]) -> None:
        total = sum(counts.values()) or 1
        rows = [
            f"           {version:<26} {arm:<7} {n:>7}  {100 * n / total:5.1f}%"
            for (version, arm), n in sorted(counts.items())
        ]
        elapsed = time.monotonic() - self.started
        self._write([f"[{elapsed:6.1f}s] {title}", *rows])

    def observe(self, live: LiveTraffic, title: str, seconds: float) -> Counter[tuple[str, str]]:
        """Answers by (version, arm) over the next `seconds`, printed as a table."""
        before = live.snapshot()
        time.sleep(seconds)
        after = live.snapshot()
        answers = after.answers - before.answers
        failed = after.failed - before.failed
        self.table(f"{title}: {sum(answers.values())} answers, {failed} failed", answers)
        return answers

    def _write(self, lines: list[str]) -> None:
        with self.lock:
            self.out.write("\n".join(lines) + "\n")
            self.out.flush()
