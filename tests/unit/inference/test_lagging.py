"""The loop-lag probe: lags split by reload and steady, the longest of a reload, on /metrics;
and what keeps a reload's stall short (no reference cycle left to collect, short GIL slices)."""

from __future__ import annotations

import gc
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from hotswap_inference import lagging, preparing, reloading
from hotswap_inference.metrics import Metrics
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from hotswap.store import publishing, routes

from . import models, pods
from .conftest import MakePod

Versions = tuple[publishing.Published, publishing.Published]


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, {"model": "intent", **labels})
    return 0.0 if value is None else value


def make_probe(reloading_now: list[bool]) -> tuple[lagging.LagProbe, CollectorRegistry]:
    registry = CollectorRegistry()
    probe = lagging.LagProbe(
        Metrics(registry), model="intent", overlaps=lambda _since: reloading_now[0]
    )
    return probe, registry


def test_lags_during_a_reload_are_apart_and_the_longest_is_kept_when_it_ends() -> None:
    reloading_now = [True]
    probe, registry = make_probe(reloading_now)
    for lag, threads in ((0.001, 0.001), (0.004, 0.0), (0.002, 0.0015)):
        probe.observe(time.monotonic(), lag, threads=threads)
    name = "hotswap_inference_reload_loop_lag_max_seconds"
    assert sample(registry, name, part="wall") == 0.0, "published once the reload ends"
    reloading_now[0] = False
    probe.observe(time.monotonic(), 0.0005)
    assert sample(registry, name, part="wall") == 0.004
    assert sample(registry, name, part="threads") == 0.0015
    count = "hotswap_inference_loop_lag_seconds_count"
    assert sample(registry, count, during="reload") == 3
    assert sample(registry, count, during="steady") == 1


def test_steady_lags_alone_publish_no_reload_maximum() -> None:
    probe, registry = make_probe([False])
    probe.observe(time.monotonic(), 0.03)
    assert sample(registry, "hotswap_inference_loop_lag_seconds_count", during="steady") == 1
    name = "hotswap_inference_reload_loop_lag_max_seconds"
    assert sample(registry, name, part="wall") == sample(registry, name, part="threads") == 0.0


def test_reloading_since_covers_a_reload_and_its_heap_freeze_only(
    root: Path, two_versions: Versions
) -> None:
    reloader = reloading.Reloader(root, "intent", metrics=Metrics(CollectorRegistry()))
    before = time.monotonic()
    assert not reloader.reloading_since(before), "no reload has run yet"
    reloader.apply(routes.Routing(stable=models.arm(two_versions[0]), generation=1))
    deadline = time.monotonic() + 10
    while reloader.reloading_since(time.monotonic()) and time.monotonic() < deadline:
        time.sleep(0.01)  # the heap freeze runs in its own thread
    assert reloader.reloading_since(before), "a sleep that began before the reload overlaps it"
    assert not reloader.reloading_since(time.monotonic()), "the reload window never ended"


def test_short_gil_slices_are_set_and_restored() -> None:
    default = sys.getswitchinterval()
    with preparing.short_gil_slices():
        inside = sys.getswitchinterval()
    assert inside == pytest.approx(preparing.RELOAD_SWITCH_INTERVAL)
    assert inside < default
    assert sys.getswitchinterval() == pytest.approx(default)


def test_a_first_load_runs_in_short_slices_and_a_load_of_a_verified_version_does_not(
    root: Path, two_versions: Versions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first load of a version compares its fast path with sklearn (long: short slices);
    loading it again in the same process compares nothing (~2 ms: the usual slices)."""
    intervals: list[float] = []
    load = preparing.loading.load_folder

    def recording(*args: object, **kwargs: object) -> object:
        intervals.append(sys.getswitchinterval())
        return load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(preparing.loading, "load_folder", recording)
    default = sys.getswitchinterval()
    reloader = reloading.Reloader(root, "intent", metrics=Metrics(CollectorRegistry()))
    first, second = (models.arm(v) for v in two_versions)
    for generation, arm in enumerate((first, second, first, second), start=1):
        reloader.apply(routes.Routing(stable=arm, generation=generation))
    short = pytest.approx(preparing.RELOAD_SWITCH_INTERVAL)
    assert intervals == [short, short, pytest.approx(default), pytest.approx(default)]
    assert sys.getswitchinterval() == pytest.approx(default)


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # unreachable objects land in gc.garbage, not freed
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def unreachable_after(use: Callable[[], None]) -> int:
    """Objects left unreachable (cycles) once `use` returned and dropped what it made."""
    use()
    gc.collect()
    return len(gc.garbage)


def test_a_swapped_out_version_holds_no_reference_cycle(
    root: Path, two_versions: Versions, saved_garbage: list[object]
) -> None:
    """The heap is never unfrozen: a version whose drop left cycles would leak for good."""

    def load_predict_drop() -> None:
        served = preparing.prepare_version(root, "intent", models.arm(two_versions[0]))
        served.predictor.predict(["refund please", "hello"])

    assert unreachable_after(load_predict_drop) == 0, saved_garbage[:10]


def test_the_cycle_check_sees_a_cycle(saved_garbage: list[object]) -> None:
    def make_a_loop() -> None:
        looped: dict[str, object] = {}
        looped["self"] = looped

    assert unreachable_after(make_a_loop) == 1


def scrape(pod: pods.Pod) -> dict[tuple[str, str], float]:
    text = httpx.get(f"{pod.metrics_url}/metrics").text
    return {
        (s.name, s.labels.get("during", s.labels.get("part", ""))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_pod_exports_its_loop_lag_steady_and_during_a_reload(
    make_pod: MakePod, root: Path, two_versions: Versions
) -> None:
    models.write_routing(root, two_versions[0], generation=1)
    pod = make_pod()
    count = "hotswap_inference_loop_lag_seconds_count"
    pod.wait_for(lambda: scrape(pod).get((count, "steady"), 0) > 0, "steady lags")
    routing = routes.Routing(stable=models.arm(two_versions[1]), generation=2)
    answer = pod.admin("POST", "/admin/reload", json=models.reload_body(routing))
    assert answer.status_code == 200, answer.text
    pod.wait_for(lambda: scrape(pod).get((count, "reload"), 0) > 0, "lags during the reload")
    maximum = ("hotswap_inference_reload_loop_lag_max_seconds", "wall")
    pod.wait_for(lambda: scrape(pod).get(maximum, 0) > 0, "the longest lag of the reload")


def test_the_probe_wakes_every_10_ms_only_when_hurried_or_around_a_reload() -> None:
    reloading_now = [False]
    probe, _ = make_probe(reloading_now)
    now = time.monotonic()
    assert probe.interval(now) == lagging.STEADY_INTERVAL
    probe.hurry(seconds=0.5)
    assert probe.interval(time.monotonic()) == lagging.INTERVAL
    assert probe.interval(time.monotonic() + 0.6) == lagging.STEADY_INTERVAL, "hurry ends"
    reloading_now[0] = True  # a reload running (or ended within STEADY_INTERVAL)
    assert probe.interval(time.monotonic() + 0.6) == lagging.INTERVAL


def wakeups_of(probe: lagging.LagProbe, *, seconds: float, hurry_at: float | None) -> int:
    """How many wake-ups the probe observed in `seconds` on a fresh loop, hurried once at
    `hurry_at` seconds (never when None)."""
    import asyncio

    observed: list[float] = []
    real = probe.observe

    def counting(slept_at: float, lag: float, *, threads: float = 0.0) -> None:
        observed.append(lag)
        real(slept_at, lag, threads=threads)

    probe.observe = counting  # type: ignore[method-assign]

    async def run() -> None:
        task = asyncio.create_task(lagging.watch(probe))
        if hurry_at is not None:
            await asyncio.sleep(hurry_at)
            probe.hurry(seconds=seconds)
        await asyncio.sleep(seconds - (hurry_at or 0.0))
        task.cancel()

    asyncio.run(run())
    return len(observed)


def test_an_idle_probe_wakes_ten_times_a_second_and_a_hurried_one_a_hundred() -> None:
    """Counted on a real loop: 0.5 s idle is ~5 wake-ups; hurried after 0.05 s, the sleep in
    progress ends at once and the next 0.45 s hold ~45 (at least 20 on a loaded machine)."""
    idle = wakeups_of(make_probe([False])[0], seconds=0.5, hurry_at=None)
    hurried = wakeups_of(make_probe([False])[0], seconds=0.5, hurry_at=0.05)
    assert 3 <= idle <= 6, idle
    assert hurried >= 20, hurried


def test_a_reload_through_the_endpoint_is_watched_at_the_short_interval(
    make_pod: MakePod, root: Path, two_versions: Versions
) -> None:
    """A reload (here through the endpoint) hurries the probe: lags during the reload are
    observed however short the reload; an idle pod's steady lags come ~10 a second."""
    models.write_routing(root, two_versions[0], generation=1)
    pod = make_pod(poll_interval=60.0)  # one poll, at start: no poll hurries the probe after
    count = "hotswap_inference_loop_lag_seconds_count"
    pod.wait_for(lambda: scrape(pod).get((count, "steady"), 0) > 0, "steady lags")
    time.sleep(0.3)  # the first poll's hurry over
    first = scrape(pod).get((count, "steady"), 0)
    time.sleep(1.0)
    steady = scrape(pod).get((count, "steady"), 0) - first
    assert 5 <= steady <= 13, f"{steady} steady wake-ups in 1 s, expected ~10 (100 before)"
    probe = pod.service.lag_probe
    assert probe.fast_until > -math.inf, "the first poll's reload hurried the probe"
    asked = time.monotonic()
    assert probe.interval(asked) == lagging.STEADY_INTERVAL
    routing = routes.Routing(stable=models.arm(two_versions[1]), generation=2)
    answer = pod.admin("POST", "/admin/reload", json=models.reload_body(routing))
    assert answer.status_code == 200, answer.text
    assert probe.fast_until >= asked + lagging.STEADY_INTERVAL, "the reload did not hurry it"
    assert scrape(pod).get((count, "reload"), 0) >= 1, "no lag observed during the reload"


def test_the_reloader_says_when_a_reload_starts_and_only_then(
    root: Path, two_versions: Versions
) -> None:
    """`starting` (the pod hurries its probe with it) runs once per applied reload, and not for
    a routing already applied or a stale one: a poll that finds nothing new wakes nothing."""
    reloader = reloading.Reloader(root, "intent", metrics=Metrics(CollectorRegistry()))
    started: list[float] = []
    reloader.starting = lambda: started.append(time.monotonic())
    first = routes.Routing(stable=models.arm(two_versions[0]), generation=2)
    assert reloader.apply(first) == reloading.APPLIED
    assert reloader.apply(first) == reloading.NOOP
    with pytest.raises(reloading.StaleGeneration):
        reloader.apply(routes.Routing(stable=models.arm(two_versions[1]), generation=1))
    assert len(started) == 1, started
    assert reloader.apply(routes.Routing(stable=models.arm(two_versions[1]), generation=3))
    assert len(started) == 2, started
