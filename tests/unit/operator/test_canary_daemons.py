"""The Canary daemon (handlers.run_canary) holds no thread between passes: each pass borrows one
from the runtime's bounded pool, so more Canaries than threads all reconcile (docs/scale.md: a
sync daemon held one of kopf's 64 threads and the 65th Canary never reconciled). A wake starts
the next pass at once, a stop ends the daemon at once, and the back-off after a failed pass is
awaited by the daemon, not slept on a pool thread.

The passes are stand-ins for reconciling.reconcile_canary that block their thread as a real pass
does (API and pod requests); the daemons run on one event loop as kopf runs them."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple

import pytest
from hotswap_operator import handlers, reconciling
from hotswap_operator.metrics import Metrics
from hotswap_operator.runtimes import Config, Runtime
from prometheus_client import CollectorRegistry

INDEXES: dict[str, Any] = {handlers.PODS_INDEX: {}, handlers.MODEL_VERSIONS_INDEX: {}}  # as kopf
BOUND = 20.0  # seconds any wait below may take before the test fails (a hang guard, not a target)


class Stopper:
    """What kopf hands a daemon as `stopped`: falsy until set, `await stopped.wait()`."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def __bool__(self) -> bool:
        return self.event.is_set()

    def wait(self) -> Any:
        return self.event.wait()


class Passes:
    """Counts passes per Canary and the threads they ran on; each pass blocks its thread."""

    def __init__(self, *, blocking: float = 0.02, failing: frozenset[str] = frozenset()) -> None:
        self.blocking, self.failing = blocking, failing
        self.by_canary: Counter[str] = Counter()
        self.threads: set[str] = set()
        self.running = self.most_at_once = 0
        self.lock = threading.Lock()

    def __call__(self, context: Any, body: dict[str, Any], _: Any = None) -> dict[str, Any]:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.threads.add(threading.current_thread().name)
        try:
            time.sleep(self.blocking)
            if context.name in self.failing:
                raise RuntimeError("the API server went away")
            with self.lock:
                self.by_canary[context.name] += 1
            return body
        finally:
            with self.lock:
                self.running -= 1


def make_runtime(
    *, threads: int, tick: float, registry: CollectorRegistry | None = None
) -> Runtime:
    apis: Any = None  # the passes are stand-ins
    config = Config(model_root=Path("/nonexistent"), reconcile_threads=threads, tick_seconds=tick)
    return Runtime(config, apis, Metrics(registry or CollectorRegistry()))


def body(uid: str) -> dict[str, Any]:
    return {"metadata": {"uid": uid, "resourceVersion": "1", "generation": 1}, "spec": {}}


class Daemons:
    """run_canary for each name, on the running loop, as kopf spawns them."""

    def __init__(self, runtime: Runtime, names: list[str]) -> None:
        self.runtime = runtime
        self.stoppers = {name: Stopper() for name in names}
        memo = SimpleNamespace(runtime=runtime)
        self.tasks = {
            name: asyncio.create_task(
                handlers.run_canary(
                    stopped=stopper, body=body(name), namespace="hotswap", name=name,
                    uid=name, memo=memo, **INDEXES,
                )  # type: ignore[arg-type]
            )
            for name, stopper in self.stoppers.items()
        }  # fmt: skip

    async def stop(self, *names: str) -> None:
        for name in names or tuple(self.stoppers):
            self.stoppers[name].event.set()
        await asyncio.wait_for(
            asyncio.gather(*(self.tasks[name] for name in names or tuple(self.tasks))), BOUND
        )


async def until(check: Any, *, every: float = 0.02) -> None:
    deadline = time.monotonic() + BOUND
    while not check():
        assert time.monotonic() < deadline, "the daemons did not get there in time"
        await asyncio.sleep(every)


def test_more_canaries_than_pool_threads_all_reconcile_again_and_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = [f"model-{index}" for index in range(5)]
    passes = Passes()
    monkeypatch.setattr(reconciling, "reconcile_canary", passes)
    runtime = make_runtime(threads=2, tick=0.05)
    assert len(names) > runtime.config.reconcile_threads, "the premise: more Canaries than threads"

    async def scenario() -> None:
        daemons = Daemons(runtime, names)
        await until(lambda: all(passes.by_canary[name] >= 3 for name in names))
        await daemons.stop()

    asyncio.run(scenario())
    assert sorted(passes.by_canary) == names
    assert len(passes.threads) <= 2 and passes.most_at_once <= 2, passes.threads
    assert all(thread.startswith("reconcile") for thread in passes.threads), passes.threads
    assert runtime.wakers == {}, "a stopped daemon forgets its Canary"
    runtime.pool.shutdown()


def test_a_stopped_daemon_ends_at_once_not_at_its_next_tick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a tick of an hour, only the stop can end the rest; the twin still running proves
    the daemon was resting, not ended by something else."""
    passes = Passes(blocking=0.0)
    monkeypatch.setattr(reconciling, "reconcile_canary", passes)
    runtime = make_runtime(threads=2, tick=3600.0)

    async def scenario() -> None:
        daemons = Daemons(runtime, ["stopped", "twin"])
        await until(lambda: passes.by_canary["stopped"] == passes.by_canary["twin"] == 1)
        await daemons.stop("stopped")
        assert daemons.tasks["stopped"].done() and not daemons.tasks["twin"].done()
        await daemons.stop("twin")

    asyncio.run(scenario())
    assert passes.by_canary == {"stopped": 1, "twin": 1}, "one pass each, then the long rest"
    runtime.pool.shutdown()


def test_a_wake_starts_the_next_pass_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    passes = Passes(blocking=0.0)
    monkeypatch.setattr(reconciling, "reconcile_canary", passes)
    runtime = make_runtime(threads=2, tick=3600.0)

    async def scenario() -> None:
        daemons = Daemons(runtime, ["woken", "twin"])
        await until(lambda: passes.by_canary["woken"] == passes.by_canary["twin"] == 1)
        runtime.wake("woken")  # as handlers.wake_canary on a watch event
        await until(lambda: passes.by_canary["woken"] == 2)
        await asyncio.sleep(0.2)
        assert passes.by_canary["twin"] == 1, "the twin, not woken, still rests"
        await daemons.stop()

    asyncio.run(scenario())
    runtime.pool.shutdown()


def test_the_back_off_after_a_failed_pass_holds_no_pool_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One thread, a Canary whose passes fail and back off for an hour: the other Canary keeps
    reconciling on that one thread meanwhile, and the failure is counted."""
    passes = Passes(blocking=0.0, failing=frozenset({"failing"}))
    monkeypatch.setattr(reconciling, "reconcile_canary", passes)
    monkeypatch.setattr(handlers, "ERROR_BACKOFF_SECONDS", 3600.0)
    registry = CollectorRegistry()
    runtime = make_runtime(threads=1, tick=0.02, registry=registry)

    async def scenario() -> None:
        daemons = Daemons(runtime, ["failing", "healthy"])
        await until(lambda: passes.by_canary["healthy"] >= 5)
        await daemons.stop()

    asyncio.run(scenario())
    errors = registry.get_sample_value(
        "hotswap_operator_reconcile_errors_total", {"kind": "Canary"}
    )
    assert errors == 1.0, "one failed pass, then the back-off (an hour) until the stop"
    assert passes.by_canary["failing"] == 0 and passes.by_canary["healthy"] >= 5
    runtime.pool.shutdown()


class Setting(NamedTuple):
    variable: str
    field: str
    default: float
    given: tuple[str, float]  # a value set, and what the config holds then
    bad: tuple[str, ...]


SETTINGS = [
    Setting(
        "HOTSWAP_OPERATOR_RECONCILE_THREADS", "reconcile_threads", 4, ("2", 2), ("0", "-1", "many")
    ),
    Setting(
        "HOTSWAP_OPERATOR_STATUS_TIMEOUT", "status_timeout", 3.0, ("0.5", 0.5), ("0", "-1", "soon")
    ),
]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.field)
def test_the_pool_size_and_status_timeout_are_settings_and_useless_ones_are_refused_by_name(
    tmp_path: Path, setting: Setting
) -> None:
    from hotswap_operator import runtimes

    root = {"HOTSWAP_MODEL_ROOT": str(tmp_path)}
    assert getattr(runtimes.load_config(root), setting.field) == setting.default
    value, held = setting.given
    assert getattr(runtimes.load_config(root | {setting.variable: value}), setting.field) == held
    for bad in setting.bad:
        with pytest.raises(runtimes.ConfigError, match=setting.variable):
            runtimes.load_config(root | {setting.variable: bad})


SETTLED = {
    "observedGeneration": 3,
    "stableVersion": "intent-a",
    "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 3}],
    "convergedPods": 3,
    "totalPods": 3,
}
MOVING = {  # each one thing that keeps the fast tick
    "the spec moved on": {"observedGeneration": 2},
    "not Ready": {"conditions": [{"type": "Ready", "status": "False"}]},
    "a canary arm": {"canaryVersion": "intent-b"},
    "a rollout": {"rollout": {"version": "intent-b", "kind": "Deploy", "startedAt": "t"}},
    "a step pending": {"currentStep": 0},
    "a pod not converged": {"convergedPods": 2},
    "no pods yet": {"convergedPods": 0, "totalPods": 0},
}


def test_a_settled_canary_rests_ten_ticks_and_anything_moving_keeps_the_tick() -> None:
    from hotswap_operator import runtimes

    config = Config(model_root=Path("/nonexistent"), tick_seconds=0.5)
    meta = {"generation": 3, "resourceVersion": "1"}
    settled = runtimes.tick_after(config, {"metadata": meta, "status": SETTLED})
    assert settled == 0.5 * runtimes.SETTLED_TICKS == 5.0
    for what, change in MOVING.items():
        moving = runtimes.tick_after(config, {"metadata": meta, "status": SETTLED | change})
        assert moving == 0.5, f"{what}: the fast tick"
    assert runtimes.tick_after(config, {"metadata": meta}) == 0.5, "no status yet"
