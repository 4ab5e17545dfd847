"""The Canary gauges the alerts and the dashboard read, as a scrape of the registry shows them:
weight, step (-1 without a Steps rollout), and one series per condition at its current status
and reason (the old series gone when it flips), all gone once the Canary is."""

from __future__ import annotations

from dataclasses import replace

from hotswap_inference import splitting
from hotswap_operator import conditions, statuses
from hotswap_operator.metrics import Metrics
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from hotswap.store.routes import Arm, Routing
from tests.unit.operator.builders import NOW, status, stepping

WEIGHT, STEP = "hotswap_operator_canary_weight", "hotswap_operator_canary_step"
CONDITION = "hotswap_operator_canary_condition"
LABELS = {
    WEIGHT: ("canary", "model"),
    STEP: ("canary", "model"),
    CONDITION: ("canary", "model", "type", "status", "reason"),
}


def scrape(registry: CollectorRegistry, name: str) -> dict[tuple[str, ...], float]:
    """{label values (in LABELS order): value} of every sample of `name`, parsed from the text."""
    found = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sample.labels[k] for k in LABELS[name])] = sample.value
    return found


def with_conditions(
    found: statuses.CanaryStatus, *entries: tuple[str, bool, str]
) -> statuses.CanaryStatus:
    listed = found.conditions
    for kind, value, reason in entries:
        listed = conditions.set_condition(
            listed, kind, value, reason=reason, message="m", now=NOW, generation=1
        )
    return replace(found, conditions=listed)


PAUSED = with_conditions(
    stepping(3, 60),
    (conditions.PROGRESSING, True, conditions.PAUSED),
    (conditions.DEGRADED, False, conditions.HEALTHY),
)
ABORTED = with_conditions(
    status(),
    (conditions.PROGRESSING, False, conditions.ABORTED_BY_USER),
    (conditions.DEGRADED, True, conditions.ABORTED_BY_USER),
)


def shown(*written: statuses.CanaryStatus) -> CollectorRegistry:
    """A registry after Canary intent's gauges were set from each status in turn."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    for found in written:
        metrics.show_canary("intent", "intent", found)
    return registry


def test_weight_step_and_conditions_mirror_the_status() -> None:
    registry = shown(PAUSED)
    assert scrape(registry, WEIGHT) == {("intent", "intent"): 60.0}
    assert scrape(registry, STEP) == {("intent", "intent"): 3.0}
    expected = {
        ("intent", "intent", "Progressing", "True", "Paused"): 1.0,
        ("intent", "intent", "Degraded", "False", "Healthy"): 1.0,
    }
    assert scrape(registry, CONDITION) == expected


def test_no_steps_rollout_is_step_minus_one_and_weight_zero() -> None:
    registry = shown(status())
    assert scrape(registry, STEP) == {("intent", "intent"): -1.0}
    assert scrape(registry, WEIGHT) == {("intent", "intent"): 0.0}


def test_a_flipped_condition_leaves_one_series_per_type() -> None:
    registry = shown(PAUSED, ABORTED)
    expected = {
        ("intent", "intent", "Progressing", "False", "AbortedByUser"): 1.0,
        ("intent", "intent", "Degraded", "True", "AbortedByUser"): 1.0,
    }
    assert scrape(registry, CONDITION) == expected
    assert scrape(registry, STEP) == {("intent", "intent"): -1.0}


def test_a_new_reason_at_the_same_status_replaces_the_series() -> None:
    ready = with_conditions(status(), (conditions.READY, True, conditions.CONVERGED))
    waiting = with_conditions(ready, (conditions.READY, True, conditions.WAITING_FOR_PODS))
    seen = scrape(shown(ready, waiting), CONDITION)
    assert seen == {("intent", "intent", "Ready", "True", "WaitingForPods"): 1.0}


def test_a_forgotten_canary_has_no_series_left_and_others_keep_theirs() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.show_canary("intent", "intent", PAUSED)
    metrics.show_canary("other", "other", ABORTED)
    metrics.forget_canary("intent")
    for name in (WEIGHT, STEP, CONDITION):
        left = {labels[0] for labels in scrape(registry, name)}
        assert left == {"other"}, f"{name}: expected only Canary other's series, saw {left}"
    metrics.forget_canary("never-shown")


def test_a_canary_moved_to_another_model_drops_the_old_model_series() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.show_canary("intent", "intent", PAUSED)
    metrics.show_canary("intent", "sentiment", PAUSED)
    for name in (WEIGHT, STEP, CONDITION):
        models = {labels[1] for labels in scrape(registry, name)}
        assert models == {"sentiment"}, f"{name}: expected model sentiment only, saw {models}"


CURRENT = "hotswap_current_model_version"
V1, V2 = "20261128_100000_aaaaaaaa", "20261128_110000_bbbbbbbb"


def serving(registry: CollectorRegistry) -> set[tuple[str, str, str]]:
    """(model, version, arm) of every hotswap_current_model_version series at 1."""
    found = set()
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            if sample.name == CURRENT and sample.value == 1.0:
                found.add(tuple(sample.labels[k] for k in ("model", "version", "arm")))
    return found


def test_the_served_versions_carry_the_pods_version_ids_and_arm_names() -> None:
    """A PromQL join on (version, arm) with the pods' series needs the same words on both."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    stable, canary = Arm(V1, "sha256:" + "a" * 64), Arm(V2, "sha256:" + "b" * 64)
    metrics.show_serving("intent", Routing(stable=stable, canary=canary, weight=20))
    assert serving(registry) == {("intent", V1, "stable"), ("intent", V2, "canary")}
    arms = {arm for _, _, arm in serving(registry)}
    assert arms == {splitting.STABLE, splitting.CANARY}, f"the pods' arm names, saw {arms}"


def test_a_promoted_canary_leaves_one_series_and_the_old_stable_goes() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    stable, canary = Arm(V1, "sha256:" + "a" * 64), Arm(V2, "sha256:" + "b" * 64)
    metrics.show_serving("intent", Routing(stable=stable, canary=canary, weight=20))
    metrics.show_serving("sentiment", Routing(stable=stable))
    metrics.show_serving("intent", Routing(stable=canary))
    expected = {("intent", V2, "stable"), ("sentiment", V1, "stable")}
    assert serving(registry) == expected, f"expected {expected}, saw {serving(registry)}"
