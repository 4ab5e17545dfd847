"""An advisory lock per model folder, so two writers never interleave a read-modify-write.

Re-entrant within a thread: a function holding the lock (retention deciding and removing) can
call another that takes it (unregistering a version). Other threads and processes wait.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from hotswap.store.layout import ModelPaths

_held = threading.local()  # the lock files this thread holds


@contextmanager
def model_lock(paths: ModelPaths) -> Iterator[None]:
    held: set[str] = _held.__dict__.setdefault("paths", set())
    key = str(paths.lock)
    if key in held:
        yield
        return
    paths.dir.mkdir(parents=True, exist_ok=True)
    with open(paths.lock, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
