"""A line of progress for each transition of one Canary: its conditions (Progressing, Ready,
Degraded) and where traffic stands (stable, canary, weight, step, pods converged).

A watch on the Canary (in a background thread) delivers each status write; only changes are
printed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from kubernetes import client, watch
from urllib3.exceptions import HTTPError

from hotswap import resources
from hotswap.local import objects

WATCH_SECONDS = 1  # each watch request ends after this; the next resumes where it stopped
RETRY_SECONDS = 0.2


def events(
    stream: watch.Watch, list_call: Callable[..., Any], *args: Any, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    """The events of `stream.stream(list_call, ...)`. The client yields None for a line that
    is blank or not JSON (the API server's keep-alive newline, a line cut when the watch
    ends); those carry no event and are skipped."""
    for event in stream.stream(list_call, *args, **kwargs):  # type: ignore[no-untyped-call]
        if event is not None:
            yield event


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


def describe_analysis(status: dict[str, Any]) -> str | None:
    """The live analysis in one line: the verdict, then each metric's estimates and interval."""
    window = status.get("analysis")
    if not window or window.get("canaryVersion") != status.get("canaryVersion"):
        return None
    parts = [describe_metric(m) for m in window.get("metrics") or []]
    return f"analysis {window.get('verdict')}: " + "; ".join(parts)


def describe_metric(metric: dict[str, Any]) -> str:
    name, state = metric.get("name"), metric.get("state")
    if metric.get("canary") is None or metric.get("stable") is None:
        return f"{name} {state}"
    interval = ""
    if metric.get("lower") is not None and metric.get("upper") is not None:
        interval = f" worse by [{metric['lower']:+.3f}, {metric['upper']:+.3f}]"
    return (
        f"{name} canary {metric['canary']:.3f} vs stable {metric['stable']:.3f} "
        f"(n={metric.get('canarySamples')}/{metric.get('stableSamples')}){interval} {state}"
    )


class Watcher:
    """Prints the transitions of Canary `name` until the `with` block ends: every status the
    operator writes arrives as a watch event, so short-lived states are printed too."""

    def __init__(self, found: objects.Namespace, name: str, say: Callable[[str], None]) -> None:
        self.objects, self.name, self.say = found, name, say
        self.stop = threading.Event()
        self.seen: dict[str, str] = {}
        self.stream = watch.Watch()  # type: ignore[no-untyped-call]
        self.thread = threading.Thread(target=self._run, name=f"watch-{name}", daemon=True)

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.stream.stop()  # type: ignore[no-untyped-call]
        self.thread.join(timeout=10)

    def _run(self) -> None:
        version = None
        while not self.stop.is_set():
            try:
                version = self._follow(version)
            except (client.ApiException, HTTPError, OSError, ValueError):
                version = None  # expired or the server is going away: list again
                self.stop.wait(RETRY_SECONDS)

    def _follow(self, version: str | None) -> str:
        """Watch from `version` (after a list when None) for a while; the version reached."""
        namespace = self.objects.namespace
        custom = self.objects.custom
        where = (resources.GROUP, resources.VERSION, namespace, resources.CANARIES)
        selector = f"metadata.name={self.name}"
        if version is None:
            listed: Any = custom.list_namespaced_custom_object(*where, field_selector=selector)
            for item in listed["items"]:
                self.look(item.get("status") or {})
            version = str(listed["metadata"]["resourceVersion"])
        found = events(
            self.stream, custom.list_namespaced_custom_object, *where, field_selector=selector,
            resource_version=version, timeout_seconds=WATCH_SECONDS,
        )  # fmt: skip
        for event in found:
            if event["type"] == "ERROR":
                raise ValueError(f"watch error: {event['object']}")
            self.look(event["object"].get("status") or {})
            version = str(event["object"]["metadata"]["resourceVersion"])
        return version

    def look(self, status: dict[str, Any]) -> None:
        lines = describe_conditions(status)
        if status.get("stableVersion"):
            lines["traffic"] = describe_traffic(status)
        analysis = describe_analysis(status)
        if analysis is not None:
            lines["analysis"] = analysis
        for key, line in lines.items():
            if self.seen.get(key) != line and not self._quiet(key, line):
                self.say(f"Canary {self.name}: {line}")
            self.seen[key] = line

    def _quiet(self, key: str, line: str) -> bool:
        """A healthy Degraded=False is news only when it follows a Degraded=True."""
        return key == "Degraded" and "=False" in line and "=True" not in self.seen.get(key, "")
