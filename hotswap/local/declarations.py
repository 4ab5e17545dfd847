"""What routing.json declares, as a load loop checks its answers against it.

An answer may come from the versions of the routing generation declared when it came back, or
from the generation before it: a pod applies a new generation just after it is declared.
"""

from __future__ import annotations

import threading

from hotswap.store import routes
from hotswap.store.layout import ModelPaths


class Declared:
    """The versions of the current and the previous routing generation seen so far."""

    def __init__(self, paths: ModelPaths) -> None:
        self.paths = paths
        self.generations: list[tuple[int, frozenset[str]]] = []
        self.lock = threading.Lock()
        self.versions()

    def versions(self) -> set[str]:
        found = routes.read_routing(self.paths)
        with self.lock:
            last = self.generations[-1][0] if self.generations else None
            if found is not None and found.generation != last:
                self.generations.append((found.generation, frozenset(found.versions)))
            return set().union(*(versions for _, versions in self.generations[-2:]))
