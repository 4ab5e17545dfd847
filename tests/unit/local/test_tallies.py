"""What the load loop's tally proves: 503s before a target's first answer are counted (not
dropped), and the arms by request key under a settled routing match its weight, so a wrong split
fails and the right one passes (keys assigned by the pods' own sticky hash)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hotswap_inference import splitting

from hotswap.local import tallies
from hotswap.local.declarations import Declared
from hotswap.store import publishing, routes
from hotswap.store.layout import ModelPaths
from tests.unit.store.conftest import MODEL, write_tiny_model

KEYS = [f"user-{n}" for n in range(500)]  # the load loop's request keys


def split_of(weight: int, *, served: int) -> tallies.Split:
    """What pods at weight `served` answer the 500 keys, judged against `weight`."""
    found = tallies.Split(weight)
    for key in KEYS:
        found.arms[key] = {splitting.choose_arm(MODEL, key, weight=served)}
    return found


@pytest.mark.parametrize("weight", [0, 20, 60, 100])
def test_pods_at_the_declared_weight_pass(weight: int) -> None:
    assert split_of(weight, served=weight).problem() is None


@pytest.mark.parametrize(
    ("declared", "served"), [(20, 60), (60, 20), (20, 80), (20, 0), (0, 20), (100, 90)]
)
def test_pods_at_another_weight_fail(declared: int, served: int) -> None:
    problem = split_of(declared, served=served).problem()
    assert problem is not None and f"declared weight {declared}%" in problem, problem


def test_a_key_answered_by_both_arms_fails() -> None:
    found = split_of(20, served=20)
    found.arms["user-7"] = {"stable", "canary"}
    assert "not sticky" in str(found.problem())


def test_503s_before_the_first_answer_are_counted_apart() -> None:
    tally = tallies.Tally()
    for status in (503, 503, 200, 503):
        tally.record("pod-a", status, "v1", "stable", allowed=None)
    assert tally.not_ready == {"pod-a": 2}, "the 503s before its first 200"
    assert tally.failures == {"pod-a: HTTP 503": 1}, "a 503 after it served is a failure"
    assert tally.total == 4 and tally.copy().not_ready == {"pod-a": 2}


def test_answers_are_split_under_settled_routings_only(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = ModelPaths(root, MODEL)
    one, two = (publishing.publish_version(root, MODEL, write_tiny_model) for _ in range(2))
    arm = {p.version: routes.Arm(p.version, p.digest) for p in (one, two)}
    canary = arm[two.version]
    routing = routes.Routing(stable=arm[one.version], canary=canary, weight=20, generation=1)
    routes.write_routing(paths, routing)
    declared, tally = Declared(paths), tallies.Tally()
    tally.record("pod-a", 200, one.version, "stable", allowed=declared, key="user-1")
    assert tally.splits == {}, "a routing just declared is not settled yet"
    monkeypatch.setattr(tallies, "SETTLED_SECONDS", 0.0)
    tally.record("pod-a", 200, two.version, "canary", allowed=declared, key="user-2")
    assert {g: (s.weight, s.arms) for g, s in tally.splits.items()} == {
        1: (20, {"user-2": {"canary"}})
    }
