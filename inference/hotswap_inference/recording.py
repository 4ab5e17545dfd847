"""The query log: one JSON line per prediction, to stdout and optionally to a file."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import IO, Any


class QueryLog:
    def __init__(self, *, stdout: bool = True, path: Path | None = None) -> None:
        self._streams: list[IO[str]] = [sys.stdout] if stdout else []
        self._file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115
        if self._file is not None:
            self._streams.append(self._file)
        self._lock = threading.Lock()

    def write(self, records: list[dict[str, Any]]) -> None:
        if not self._streams or not records:
            return
        text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        with self._lock:
            for stream in self._streams:
                stream.write(text)
                stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._streams.remove(self._file)
                self._file = None
