"""A watch in a thread that resumes from the last resourceVersion it saw when its connection
drops (as kopf and client-go informers do), collecting raw events for a test to wait on."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from kubernetes import client, watch

from hotswap.local import watching

Event = dict[str, Any]


class Watcher:
    def __init__(self, core: client.CoreV1Api, *, label_selector: str, kind: str = "pod") -> None:
        self.list = getattr(core, f"list_namespaced_{kind}")
        self.label_selector = label_selector
        self.events: queue.Queue[Event] = queue.Queue()
        self.reconnects = 0
        self.resource_version = ""
        self._watch = watch.Watch()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-watch", daemon=True)

    def __enter__(self) -> Watcher:
        # List first: the watch then starts from a known point and misses nothing after it.
        self._relist()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._watch.stop()
        self._thread.join(timeout=10)

    def wait_for(
        self, matches: Callable[[Event], bool], *, what: str, timeout: float = 60
    ) -> dict[str, Any]:
        """The object of the first event that `matches`; fails naming what it saw instead."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            if matches(event):
                return dict(event["object"])
            seen.append(f"{event['type']} {event['object']['metadata'].get('name')}")
        raise AssertionError(f"expected {what} within {timeout:.0f}s; saw {seen or 'no events'}")

    def _run(self) -> None:
        expired = False
        while not self._stopping.is_set():
            try:
                if expired:
                    self._relist(emit=True)
                self._stream()
                expired = False
            except Exception as error:  # the apiserver went away: resume
                if self._stopping.is_set():
                    return
                expired = isinstance(error, client.ApiException) and error.status == 410
                self.reconnects += 1
                time.sleep(0.5)

    def _relist(self, *, emit: bool = False) -> None:
        """After 410 Expired (a restarted apiserver's watch cache starts at the current
        revision), list again as informers do, and report what is there as RELISTED."""
        listed = self.list("default", label_selector=self.label_selector)
        if emit:
            for item in listed.items:
                raw = self._watch._api_client.sanitize_for_serialization(item)
                self.events.put({"type": "RELISTED", "object": raw})
        self.resource_version = listed.metadata.resource_version

    def _stream(self) -> None:
        for event in watching.events(
            self._watch,
            self.list,
            "default",
            label_selector=self.label_selector,
            resource_version=self.resource_version,
            timeout_seconds=30,
        ):
            raw = event["raw_object"]
            self.resource_version = raw["metadata"]["resourceVersion"]
            self.events.put({"type": event["type"], "object": raw})
            if self._stopping.is_set():
                return
