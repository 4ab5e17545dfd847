"""Runtime.newest: our own status write is used until the watch shows it, resourceVersion compared
for equality only (the API says it is opaque), the wait bounded as kopf bounds it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hotswap_operator import runtimes
from hotswap_operator.metrics import Metrics
from hotswap_operator.runtimes import Config
from prometheus_client import CollectorRegistry

UID = "uid-1"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def runtime(clock: Clock) -> runtimes.Runtime:
    apis: Any = None  # newest/remember never call the API
    return runtimes.Runtime(
        Config(model_root=Path("/nonexistent")), apis, Metrics(CollectorRegistry()), clock=clock
    )


def body(version: str, *, generation: int = 1, step: int = 0) -> dict[str, Any]:
    meta = {"resourceVersion": version, "generation": generation}
    return {"metadata": meta, "status": {"currentStep": step}}


def test_our_write_is_used_while_the_watch_still_shows_the_body_before_it() -> None:
    """resourceVersions that look smaller or are not numbers at all order nothing: the body our
    write returned is used until the watch delivers that exact version."""
    for before, written in (("10", "9"), ("b7", "a8"), ("0x1f", "0x20")):
        run = runtime(Clock())
        mine = body(written, step=2)
        run.remember(UID, mine)
        live = body(before, step=1)
        assert run.newest(UID, live) is mine, f"live {before!r}, written {written!r}"


def test_once_the_watch_shows_our_version_the_live_body_is_used() -> None:
    run = runtime(Clock())
    run.remember(UID, body("a8", step=2))
    caught_up = body("a8", step=2)
    assert run.newest(UID, caught_up) is caught_up
    later = body("c1", step=3)
    assert run.newest(UID, later) is later, "nothing of ours is awaited any more"


def test_a_spec_change_wins_at_once_by_metadata_generation() -> None:
    """metadata.generation is a sequence number (comparable); a user's spec edit is never held
    back behind our status write."""
    run = runtime(Clock())
    mine = body("a8", generation=4, step=2)
    run.remember(UID, mine)
    assert run.newest(UID, body("b1", generation=4)) is mine
    edited = body("b2", generation=5)
    assert run.newest(UID, edited) is edited


def test_the_wait_for_our_write_is_bounded() -> None:
    clock = Clock()
    run = runtime(clock)
    mine = body("a8")
    run.remember(UID, mine)
    other = body("zz")
    clock.now += runtimes.CONSISTENCY_SECONDS - 0.1
    assert run.newest(UID, other) is mine
    run.remember(UID, mine)  # a pass that wrote nothing hands back the same body: no new wait
    clock.now += 0.2
    assert run.newest(UID, other) is other, "after the wait the watch's body is used"


def test_without_a_write_the_live_body_is_used() -> None:
    run = runtime(Clock())
    live = body("1")
    assert run.newest(UID, live) is live
    run.remember(UID, body("2"))
    run.forget(UID)
    assert run.newest(UID, live) is live


def woken(run: runtimes.Runtime) -> bool:
    waker = run.wakers.get(UID)
    found = waker is not None and waker.is_set()
    if waker is not None:
        waker.clear()
    return found


def test_an_event_wakes_the_canary_only_when_it_asks_something_new() -> None:
    """Our own status writes come back on the watch: they wake nothing (each woke a pass that
    asked every pod again). A spec change, an annotation (promote, abort) or a deletion does,
    and so does any event before the first pass."""
    run = runtime(Clock())
    passed = body("10", generation=3, step=1)
    run.wake_on_change(UID, passed)
    assert woken(run), "no pass yet: every event wakes"
    run.passing(UID, passed)
    assert not woken(run)
    for status_only in (body("11", generation=3, step=2), body("12", generation=3, step=3)):
        run.wake_on_change(UID, status_only)
        assert not woken(run), f"status alone woke it: {status_only}"
    respecified = body("13", generation=4, step=3)
    promoted = body("14", generation=3) | {
        "metadata": {"generation": 3, "annotations": {"hotswap.dev/promote": "now"}}
    }
    deleted = body("15", generation=3) | {
        "metadata": {"generation": 3, "deletionTimestamp": "2026-12-02T12:00:00Z"}
    }
    for changed in (respecified, promoted, deleted):
        run.wake_on_change(UID, changed)
        assert woken(run), f"not woken by {changed['metadata']}"
    run.forget(UID)
    run.wake_on_change(UID, passed)
    assert woken(run), "a forgotten Canary wakes on its next event"
