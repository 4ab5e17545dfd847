"""deciding.routing_of, table-driven: the routing a plan declares, in the version ids and digests
the store writes and the pods load; None while one of its ModelVersions is unknown."""

from __future__ import annotations

import pytest
from hotswap_operator import deciding
from hotswap_operator.deciding import Plan

from hotswap.store.routes import Arm, Routing
from tests.unit.operator.builders import NEW, OLD, spec

V1, V2 = (
    Arm("20261128_100000_aaaaaaaa", "sha256:" + "a" * 64),
    Arm("20261128_110000_bbbbbbbb", "sha256:" + "b" * 64),
)
ARMS = {OLD: V1, NEW: V2}
MIRRORED = spec(mirror_percent=10, sticky_header="X-User")

CASES = [
    ("no plan: nothing to route", None, ARMS, None),
    ("stable only", Plan(OLD), ARMS, Routing(stable=V1, sticky_header="X-User")),
    (
        "a canary at its weight, mirrored",
        Plan(OLD, NEW, 20),
        ARMS,
        Routing(stable=V1, canary=V2, weight=20, sticky_header="X-User", mirror_percent=10),
    ),
    ("stable unknown: wait", Plan(OLD, NEW, 20), {NEW: V2}, None),
    ("canary unknown: wait", Plan(OLD, NEW, 20), {OLD: V1}, None),
    (
        "a weight without a canary is no weight",
        Plan(OLD, None, 30),
        ARMS,
        Routing(stable=V1, sticky_header="X-User"),
    ),
]


@pytest.mark.parametrize(("name", "plan", "arms", "expected"), CASES, ids=[c[0] for c in CASES])
def test_routing_of(
    name: str, plan: Plan | None, arms: dict[str, Arm], expected: Routing | None
) -> None:
    seen = deciding.routing_of(plan, MIRRORED, arms=arms)
    assert seen == expected, f"{name}: expected {expected}, saw {seen}"


def test_the_same_routing_whatever_its_generation() -> None:
    declared = Routing(stable=V1, canary=V2, weight=20)
    assert deciding.same_routing(declared, Routing(stable=V1, canary=V2, weight=20, generation=9))
    assert not deciding.same_routing(declared, Routing(stable=V1, canary=V2, weight=30))
