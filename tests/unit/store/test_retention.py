"""Retention keeps what an abort returns to, and decides and removes under the model lock."""

from __future__ import annotations

import threading
from pathlib import Path

from hotswap.store import locking, retention, routes, switching, versions
from hotswap.store.layout import ModelPaths
from tests.unit.store.conftest import MODEL, Publish


def arm(paths: ModelPaths, version: str) -> routes.Arm:
    return routes.Arm(version, versions.get_version(paths, version).digest)


def declare(paths: ModelPaths, stable: str, canary: str | None = None) -> None:
    """What the operator does: routing.json, then `current` to its stable."""
    routing = routes.Routing(
        stable=arm(paths, stable),
        canary=arm(paths, canary) if canary else None,
        weight=10 if canary else 0,
    )
    routes.write_routing(paths, routing)
    switching.switch_current(paths, stable)


def registered(paths: ModelPaths) -> list[str]:
    return [r.version for r in versions.list_versions(paths)]


def test_the_previous_stable_stays_while_a_new_stable_rolls_out(
    root: Path, publish: Publish
) -> None:
    """An Immediate rollout A -> E rewrites routing.json and `current` at once; an abort returns
    to A, so gc must keep A although nothing names it any more. B served before A: it goes."""
    paths = ModelPaths(root, MODEL)
    a, b, c, d, e = (publish().version for _ in range(5))
    declare(paths, b)
    declare(paths, a)
    declare(paths, e)

    removed = retention.collect_garbage(paths, keep=1)

    assert a in registered(paths) and paths.version(a).is_dir(), f"removed {removed}"
    assert removed == [b, c, d], f"expected {[b, c, d]} removed, saw {removed}"
    assert registered(paths) == [a, e]


def test_the_stable_before_a_steps_promotion_stays(root: Path, publish: Publish) -> None:
    paths = ModelPaths(root, MODEL)
    old, stable, extra, candidate = (publish().version for _ in range(4))
    declare(paths, old)
    declare(paths, stable)
    declare(paths, stable, candidate)  # a step: the candidate takes 10%
    declare(paths, candidate)  # promoted

    assert retention.select_garbage(paths, keep=1) == [old, extra]


def test_a_rollback_refreshes_what_served_last(root: Path, publish: Publish) -> None:
    """A -> B -> back to A: now B is the one an abort returns to, and the older stables go."""
    paths = ModelPaths(root, MODEL)
    c, a, b, _newest = (publish().version for _ in range(4))
    declare(paths, c)
    declare(paths, a)
    declare(paths, b)
    declare(paths, a)

    assert retention.select_garbage(paths, keep=1) == [c]
    served = {r.version: r.served for r in versions.list_versions(paths)}
    assert served[a] > served[b] > served[c] > 0, served


def test_the_served_order_survives_a_registration_in_place(root: Path, publish: Publish) -> None:
    paths = ModelPaths(root, MODEL)
    a, b = (publish().version for _ in range(2))
    declare(paths, a)
    declare(paths, b)
    record = versions.get_version(paths, a)
    versions.register_version(paths, versions.VersionRecord(a, record.created, record.digest))
    assert versions.get_version(paths, a).served == record.served > 0


def test_gc_waits_for_the_model_lock_and_decides_under_it(root: Path, publish: Publish) -> None:
    """A writer holds the lock and routes traffic to an old version meanwhile: gc, started
    before, must wait and then see it (deciding before taking the lock removed it)."""
    paths = ModelPaths(root, MODEL)
    old, stable, newest = (publish().version for _ in range(3))
    declare(paths, stable)
    removed: list[str] = []
    gc = threading.Thread(target=lambda: removed.extend(retention.collect_garbage(paths, keep=1)))

    with locking.model_lock(paths):
        gc.start()
        gc.join(timeout=0.5)
        assert gc.is_alive(), "gc went ahead while another writer held the model lock"
        declare(paths, stable, old)  # a rollout towards the old version starts
    gc.join(timeout=30)

    assert not gc.is_alive()
    assert old in registered(paths) and paths.version(old).is_dir(), f"gc removed {removed}"
    assert removed == [], f"stable, canary and newest all stay; gc removed {removed}"
    assert registered(paths) == [old, stable, newest]


def test_the_model_lock_is_reentrant_in_one_thread(root: Path) -> None:
    paths = ModelPaths(root, MODEL)
    with locking.model_lock(paths), locking.model_lock(paths):
        pass
    acquired = threading.Event()

    def other() -> None:
        with locking.model_lock(paths):
            acquired.set()

    with locking.model_lock(paths):
        thread = threading.Thread(target=other)
        thread.start()
        assert not acquired.wait(timeout=0.3), "another thread took a lock this thread holds"
    assert acquired.wait(timeout=10), "the lock was not released after the outer block"
    thread.join(timeout=10)
