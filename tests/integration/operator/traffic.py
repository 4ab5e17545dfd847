"""A bounded load loop through every switch: requests round-robin over the pods, each answer
checked against what routing.json declares.

Allowed for one answer: the versions of the routing generation declared when it came back, or
of the generation before it (a pod applies a new generation just after the operator declares
it). A pod that has not answered yet is skipped while it says 503, as a Service skips a pod
that is not ready.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from hotswap.store import layout, routes
from tests.integration.operator import flows

MAX_REQUESTS = 20_000
MAX_SECONDS = 600.0
PAUSE_SECONDS = 0.01


@dataclass
class Traffic:
    root: Path
    targets: list[tuple[str, int]]  # (ip, port) of each pod
    answered: int = 0
    failures: list[str] = field(default_factory=list)
    undeclared: list[str] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    _generations: list[tuple[int, set[str]]] = field(default_factory=list)
    _in_service: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def declared(self) -> set[str]:
        """The versions of the current and the previous routing generation seen so far."""
        found = routes.read_routing(layout.ModelPaths(self.root, flows.MODEL))
        if found is None:
            return set()
        if not self._generations or self._generations[-1][0] != found.generation:
            self._generations.append((found.generation, set(found.versions)))
        return set().union(*(versions for _, versions in self._generations[-2:]))

    def start(self) -> Traffic:
        self.declared()
        self._thread = threading.Thread(target=self._run, name="traffic", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        started = time.monotonic()
        for count in range(MAX_REQUESTS):
            if self._stop.is_set() or time.monotonic() - started > MAX_SECONDS:
                return
            ip, port = self.targets[count % len(self.targets)]
            code, version, _ = flows.predict(ip, port)
            self._record(f"{ip}:{port}", code, version, allowed=self.declared())
            self._stop.wait(PAUSE_SECONDS)

    def _record(self, where: str, code: int, version: str, *, allowed: set[str]) -> None:
        if code == 503 and where not in self._in_service:
            return  # not ready yet: a Service would not send it traffic
        self._in_service.add(where)
        self.answered += 1
        self.versions[version] = self.versions.get(version, 0) + 1
        if code != 200:
            self.failures.append(f"{where} answered {code}")
        elif version not in allowed:
            self.undeclared.append(f"{where} answered {version}, declared {sorted(allowed)}")

    def check(self) -> None:
        assert self.answered > 0, "the load loop sent no request"
        assert self.failures == [], (
            f"expected 0 failed requests of {self.answered}: {self.failures[:5]}"
        )
        assert self.undeclared == [], f"expected 0 undeclared versions: {self.undeclared[:5]}"
