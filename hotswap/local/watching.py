"""A line of progress for each transition of one Canary: its conditions (Progressing, Ready,
Degraded) and where traffic stands (stable, canary, weight, step, pods converged).

The Canary is read every 0.1 s in a background thread; only changes are printed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kubernetes import client
from urllib3.exceptions import HTTPError

from hotswap.local import objects

EVERY_SECONDS = 0.1


def describe_conditions(status: dict[str, Any]) -> dict[str, str]:
    """Condition type -> `Type=Status Reason: message`."""
    found = {}
    for item in status.get("conditions") or []:
        kind = str(item.get("type"))
        found[kind] = f"{kind}={item.get('status')} {item.get('reason')}: {item.get('message')}"
    return found


def describe_traffic(status: dict[str, Any]) -> str:
    canary = status.get("canaryVersion")
    split = f"canary {canary} at {status.get('weight', 0)}%" if canary else "no canary"
    step = status.get("currentStep")
    where = f", step {step}" if step is not None else ""
    pods = f"{status.get('convergedPods', 0)}/{status.get('totalPods', 0)} pods converged"
    return f"stable {status.get('stableVersion')}, {split}{where}; {pods}"


class Watcher:
    """Prints the transitions of Canary `name` until the `with` block ends."""

    def __init__(self, found: objects.Namespace, name: str, say: Callable[[str], None]) -> None:
        self.objects, self.name, self.say = found, name, say
        self.stop = threading.Event()
        self.seen: dict[str, str] = {}
        self.thread = threading.Thread(target=self._run, name=f"watch-{name}", daemon=True)

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        while not self.stop.wait(EVERY_SECONDS):
            try:
                self.look(self.objects.get("canaries", self.name).get("status") or {})
            except (client.ApiException, HTTPError, OSError):
                continue  # not created yet, or the server is going away: look again

    def look(self, status: dict[str, Any]) -> None:
        lines = describe_conditions(status)
        if status.get("stableVersion"):
            lines["traffic"] = describe_traffic(status)
        for key, line in lines.items():
            if self.seen.get(key) != line and not self._quiet(key, line):
                self.say(f"Canary {self.name}: {line}")
            self.seen[key] = line

    def _quiet(self, key: str, line: str) -> bool:
        """A healthy Degraded=False is news only when it follows a Degraded=True."""
        return key == "Degraded" and "=False" in line and "=True" not in self.seen.get(key, "")
