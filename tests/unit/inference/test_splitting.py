"""The stable/canary split: weights, stickiness across pods, no key means random."""

from __future__ import annotations

import httpx
import pytest
from hotswap_inference import splitting

from . import models
from .conftest import MakePod

KEYS = [f"user-{i}" for i in range(10_000)]


def canary_share(weight: int) -> float:
    arms = [splitting.choose_arm(models.MODEL, key, weight=weight) for key in KEYS]
    return arms.count(splitting.CANARY) / len(arms)


def test_weight_10_sends_about_10_percent_of_keys_to_canary() -> None:
    share = canary_share(10)
    assert 0.088 <= share <= 0.112, f"expected 8.8-11.2% canary at weight 10, saw {share:.2%}"


def test_weight_0_sends_none_and_weight_100_sends_all_to_canary() -> None:
    assert canary_share(0) == 0.0, "expected no canary at weight 0"
    assert canary_share(100) == 1.0, "expected no stable at weight 100"


def test_raising_the_weight_only_moves_keys_from_stable_to_canary() -> None:
    at_10 = {k for k in KEYS if splitting.choose_arm("intent", k, weight=10) == "canary"}
    at_30 = {k for k in KEYS if splitting.choose_arm("intent", k, weight=30) == "canary"}
    moved_back = at_10 - at_30
    assert not moved_back, f"expected keys to stay canary, {len(moved_back)} went back to stable"


def test_no_key_draws_at_random() -> None:
    arms = {splitting.choose_arm("intent", None, weight=50) for _ in range(200)}
    assert arms == {"stable", "canary"}, f"expected both arms without a key, saw {arms}"


@pytest.mark.parametrize("weight", [1, 10, 90])
def test_draws_without_a_key_give_the_canary_its_weight(weight: int) -> None:
    draws = 40_000
    canary = sum(
        splitting.choose_arm("intent", None, weight=weight) == "canary" for _ in range(draws)
    )
    expected = draws * weight / 100
    spread = 5 * (draws * weight / 100 * (1 - weight / 100)) ** 0.5  # five standard deviations
    assert abs(canary - expected) <= spread, f"weight {weight}: {canary} of {draws} to canary"


@pytest.mark.parametrize("percent", [0, 5, 100])
def test_mirroring_takes_its_percent_of_stable_requests(percent: int) -> None:
    draws = 40_000
    mirrored = sum(splitting.should_mirror(percent) for _ in range(draws))
    spread = 5 * (draws * percent / 100 * (1 - percent / 100)) ** 0.5
    assert abs(mirrored - draws * percent / 100) <= spread, f"{percent}%: {mirrored} of {draws}"


def test_a_key_keeps_its_arm_on_two_pods(make_pod: MakePod, root, two_versions) -> None:  # type: ignore[no-untyped-def]
    stable, canary = two_versions
    models.write_routing(root, stable, canary, weight=50, generation=1)
    pod_a, pod_b = make_pod(), make_pod()
    for pod in (pod_a, pod_b):
        pod.wait_for(lambda p=pod: p.service.reloader.state.canary() is not None, "canary")
    for key in KEYS[:40]:
        seen = {
            httpx.post(
                f"{pod.url}/predict", json={"input": "refund"}, headers={"X-Request-Key": key}
            ).headers["X-Model-Arm"]
            for pod in (pod_a, pod_b, pod_a)
        }
        expected = splitting.choose_arm("intent", key, weight=50)
        assert seen == {expected}, f"expected key {key} on {expected} on both pods, saw {seen}"
