"""What routing.json declares, as a load loop checks its answers against it.

An answer may come from the versions of the routing generation declared when it came back, or
from the generation before it: a pod applies a new generation just after it is declared. Once a
generation has been declared for a few seconds (`settled`), every pod serves it, so its answers'
arms show the split its weight declares.
"""

from __future__ import annotations

import threading
import time

from hotswap.store import routes
from hotswap.store.layout import ModelPaths


class Declared:
    """The versions of the current and the previous routing generation seen so far."""

    def __init__(self, paths: ModelPaths) -> None:
        self.paths = paths
        self.generations: list[tuple[int, frozenset[str]]] = []
        self.weights: dict[int, tuple[int, float]] = {}  # generation -> (weight, first seen)
        self.lock = threading.Lock()
        self.versions()

    def versions(self) -> set[str]:
        found = routes.read_routing(self.paths)
        with self.lock:
            last = self.generations[-1][0] if self.generations else None
            if found is not None and found.generation != last:
                self.generations.append((found.generation, frozenset(found.versions)))
                self.weights[found.generation] = (found.weight, time.monotonic())
            return set().union(*(versions for _, versions in self.generations[-2:]))

    def settled(self, seconds: float) -> tuple[int, int] | None:
        """(generation, canary weight) of the latest routing seen, once it has been declared
        for `seconds` (every pod applied it by then); None while it is newer."""
        with self.lock:
            if not self.generations:
                return None
            generation = self.generations[-1][0]
            weight, since = self.weights[generation]
        return (generation, weight) if time.monotonic() - since >= seconds else None
