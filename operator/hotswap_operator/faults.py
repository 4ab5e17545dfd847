"""Fault points for crash tests: the operator SIGKILLs itself at a named point of a switch.

Off unless a test names a point (nothing else reads these variables): HOTSWAP_FAULT=<point>
(or <point>:<k> for `after-pods-signalled`: once k pods answered), or HOTSWAP_FAULT_FILE=<file>
whose content names it, read at each crossing (absent or empty: off), so a test arms and disarms
a running operator. With HOTSWAP_FAULT_MARKER=<file>, reaching the point appends one JSON line
to that file (point, pid, detail), flushed to disk; then the process kills itself with SIGKILL:
no cleanup, no finally, as a node failure or the OOM killer would. The line proves where the
kill landed.
"""

from __future__ import annotations

import json
import os
import signal

FAULT = "HOTSWAP_FAULT"
FAULT_FILE = "HOTSWAP_FAULT_FILE"
FAULT_MARKER = "HOTSWAP_FAULT_MARKER"

ROUTING_WRITTEN = "after-routing-written"  # routing.json replaced, `current` not yet
CURRENT_SWITCHED = "after-current-switched"  # `current` points at the new stable
PODS_SIGNALLED = "after-pods-signalled"  # k of the N pods behind answered the reload
STATUS_WRITTEN = "after-status-written"  # the Canary's status patched, events not yet posted
POINTS = (ROUTING_WRITTEN, CURRENT_SWITCHED, PODS_SIGNALLED, STATUS_WRITTEN)


def reach(point: str, **detail: object) -> None:
    """Die here if HOTSWAP_FAULT names `point` (and, with `:<k>`, detail `done` is k)."""
    armed = os.environ.get(FAULT) or _read_armed()
    if not armed:
        return
    name, _, count = armed.partition(":")
    if name not in POINTS:
        raise ValueError(f"{FAULT}={armed!r} names no fault point: use one of {POINTS}")
    if name != point or (count and detail.get("done") != int(count)):
        return
    _mark(point, detail)
    os.kill(os.getpid(), signal.SIGKILL)


def _read_armed() -> str:
    path = os.environ.get(FAULT_FILE)
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8") as named:
            return named.read().strip()
    except FileNotFoundError:
        return ""


def _mark(point: str, detail: dict[str, object]) -> None:
    path = os.environ.get(FAULT_MARKER)
    if not path:
        return
    line = json.dumps({"point": point, "pid": os.getpid(), "detail": detail}, default=str)
    with open(path, "a", encoding="utf-8") as marker:
        marker.write(line + "\n")
        marker.flush()
        os.fsync(marker.fileno())
