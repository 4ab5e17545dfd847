"""The query log: one JSON line per prediction, to stdout and optionally to a file.

A request only serializes its lines and appends them to a buffer (no syscall, no flush); a
background thread writes the buffer every `FLUSH_SECONDS`. `close()` writes what is left, so
a clean shutdown loses no line. Past `MAX_PENDING` buffered writes (a stalled disk or pipe) a
request writes the buffer itself, as an unbuffered log would.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from hotswap_inference.predictors import Predictions

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.05
MAX_PENDING = 10_000


class QueryLog:
    def __init__(
        self, *, stdout: bool = True, path: Path | None = None, flush_seconds: float = FLUSH_SECONDS
    ) -> None:
        self._streams: list[IO[str]] = [sys.stdout] if stdout else []
        self._file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115
        if self._file is not None:
            self._streams.append(self._file)
        self.flush_seconds = flush_seconds
        self._pending: list[str] = []
        self._lock = threading.Lock()  # guards _pending and _writer
        self._writing = threading.Lock()  # one writer at a time, lines in order
        self._stopped = threading.Event()
        self._writer: threading.Thread | None = None

    def write(self, lines: str) -> None:
        """Buffer `lines` (whole JSON lines, each ending in a newline) for the writer thread."""
        if not self._streams or not lines:
            return
        with self._lock:
            self._pending.append(lines)
            backlog = len(self._pending) > MAX_PENDING or self._stopped.is_set()
            if self._writer is None and not backlog:
                self._writer = threading.Thread(target=self._run, name="hotswap-querylog")
                self._writer.daemon = True
                self._writer.start()
        if backlog:
            self.flush()

    def flush(self) -> None:
        """Write every buffered line now."""
        with self._writing:
            with self._lock:
                pending, self._pending = self._pending, []
            if pending:
                self._write_out("".join(pending))

    def close(self) -> None:
        """Stop the writer, write what is left and close the file."""
        self._stopped.set()
        with self._lock:
            thread = self._writer
        if thread is not None:
            thread.join(timeout=10)
        self.flush()
        with self._writing:
            if self._file is not None:
                self._file.close()
                self._streams.remove(self._file)
                self._file = None

    def _run(self) -> None:
        while not self._stopped.wait(self.flush_seconds):
            self.flush()

    def _write_out(self, text: str) -> None:
        for stream in self._streams:
            try:
                stream.write(text)
                stream.flush()
            except (OSError, ValueError) as exc:  # a closed pipe must not stop serving
                log.warning("query log: cannot write to %s: %s", stream, exc)


def query_lines(
    head: str, request_id: str, predictions: Predictions, *, latency: float, shadow: bool = False
) -> str:
    """The JSON lines of one request; `head` is `query_head(model, version, arm)`."""
    ts = CLOCK.now()
    start = f'{{"request_id":{quote(request_id)},{head},"latency_ms":{number(latency * 1000)}'
    tail = ',"shadow":true}\n' if shadow else "}\n"
    labels, confidences = predictions.labels, predictions.confidences
    if len(labels) == 1:  # the common case, without the generator and join
        confidence = number(confidences[0], 6)
        return f'{start},"label":{quote(labels[0])},"confidence":{confidence},"ts":"{ts}"{tail}'
    return "".join(
        f'{start},"label":{quote(label)},"confidence":{number(confidence, 6)},"ts":"{ts}"'
        f',"index":{i}{tail}'
        for i, (label, confidence) in enumerate(zip(labels, confidences, strict=True))
    )


@functools.lru_cache(maxsize=256)
def query_head(model: str, version: str, arm: str) -> str:
    """The fields shared by every line of one (version, arm), serialized once."""
    fields = {"model": model, "model_version": version, "arm": arm}
    return json.dumps(fields, separators=(",", ":"))[1:-1]


def quote(text: str) -> str:
    """A JSON string, exactly as `json.dumps(text)` writes it (its own C encoder)."""
    return json.encoder.encode_basestring_ascii(text)


class Clock:
    """Now, ISO 8601 UTC to the millisecond, as `isoformat(timespec="milliseconds")` writes it:
    the date and time formatted once per second, the milliseconds appended per millisecond
    (a `datetime` per millisecond was ~3.5% of a text request's CPU under wrk)."""

    def __init__(self) -> None:
        self._last: tuple[int, str] = (-1, "")  # (millisecond, its text)
        self._second: tuple[int, str] = (-1, "")  # (second, "YYYY-MM-DDTHH:MM:SS.")

    def now(self) -> str:
        return self.at(time.time_ns() // 1_000_000)

    def at(self, millis: int) -> str:
        """The text of `millis` milliseconds since the epoch."""
        last = self._last  # one read: another thread may swap it, never half of it
        if last[0] == millis:
            return last[1]
        second, milli = divmod(millis, 1000)
        prefix = self._second
        if prefix[0] != second:
            moment = datetime.fromtimestamp(second, UTC)
            prefix = (second, moment.strftime("%Y-%m-%dT%H:%M:%S."))
            self._second = prefix
        text = f"{prefix[1]}{milli:03d}+00:00"
        self._last = (millis, text)
        return text


CLOCK = Clock()


def number(value: float, digits: int = 3) -> str:
    """A rounded float as JSON writes it (null for NaN or infinity, which JSON cannot hold):
    `repr(round(value, digits))`. Between 1e-4 and 1e9 that is the fixed-point text to
    `digits` places without its trailing zeros (both round the exact binary value half to
    even, and no shorter decimal reads back as the same float), one conversion instead of
    round()'s two and repr()'s third. Below 1e-4 repr writes an exponent; at 1e9 and above
    a float's spacing nears 1e-6, where a shorter decimal may read back as the same float."""
    value = float(value)
    if 1e-4 <= abs(value) < 1e9 and digits <= 6:
        text = f"{value:.{digits}f}".rstrip("0")
        return text + "0" if text[-1] == "." else text
    rounded = round(value, digits)
    return repr(rounded) if math.isfinite(rounded) else "null"
