"""An advisory lock per model folder, so two writers never interleave a read-modify-write."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from hotswap.store.layout import ModelPaths


@contextmanager
def model_lock(paths: ModelPaths) -> Iterator[None]:
    paths.dir.mkdir(parents=True, exist_ok=True)
    with open(paths.lock, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
