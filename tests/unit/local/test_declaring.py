"""Rollouts on one machine (`hotswap.local.declaring`): what routing.json and `current` say after
each change, and the changes refused with a message naming the fix."""

from __future__ import annotations

import pytest

from hotswap.local import declaring
from hotswap.store import routes, switching, versions
from hotswap.store.errors import StoreError
from hotswap.store.layout import ModelPaths
from hotswap.store.routes import Routing


def declared(paths: ModelPaths) -> Routing:
    found = routes.read_routing(paths)
    assert found is not None, "routing.json was not written"
    return found


def test_deploy_serves_the_newest_alone_and_switches_current(
    paths: ModelPaths, three: list[str]
) -> None:
    done = declaring.deploy(paths)

    assert done.changed and done.before is None
    routing = declared(paths)
    assert (routing.stable.version, routing.canary, routing.generation) == (three[-1], None, 1)
    assert routing.stable.digest == versions.get_version(paths, three[-1]).digest
    assert switching.read_current(paths) == three[-1]


def test_deploying_what_serves_changes_nothing_and_another_version_does(
    paths: ModelPaths, three: list[str]
) -> None:
    declaring.deploy(paths, three[0])

    again = declaring.deploy(paths, three[0])
    other = declaring.deploy(paths, three[1])

    assert not again.changed and declared(paths).stable.version == three[1]
    assert (again.after.generation, other.after.generation) == (1, 2)


def test_a_version_named_as_its_model_version_is_accepted(
    paths: ModelPaths, three: list[str]
) -> None:
    declaring.deploy(paths, f"{paths.model}-{three[0].replace('_', '-')}")

    assert declared(paths).stable.version == three[0]


def test_a_corrupt_version_is_refused_and_routing_left_as_it_was(
    paths: ModelPaths, three: list[str]
) -> None:
    declaring.deploy(paths, three[0])
    (paths.version(three[1]) / "model.joblib").write_bytes(b"not the published bytes")

    with pytest.raises(declaring.RolloutError, match=f"{three[1]} is not intact"):
        declaring.deploy(paths, three[1])
    declaring.deploy(paths, three[2])  # an intact one: accepted

    assert declared(paths).stable.version == three[2]
    assert declared(paths).generation == 2


def test_canary_weight_and_promote(paths: ModelPaths, three: list[str]) -> None:
    declaring.deploy(paths, three[0])

    declaring.start_canary(paths, three[1], weight=20, sticky_header="X-User", mirror_percent=5)
    at_20 = declared(paths)
    declaring.set_weight(paths, 60)
    at_60 = declared(paths)
    declaring.promote(paths)
    promoted = declared(paths)

    assert at_20.canary is not None and at_20.canary.version == three[1]
    assert (at_20.weight, at_20.sticky_header, at_20.mirror_percent) == (20, "X-User", 5)
    assert (at_60.weight, at_60.generation) == (60, at_20.generation + 1)
    assert (promoted.stable.version, promoted.canary, promoted.weight) == (three[1], None, 0)
    assert switching.read_current(paths) == three[1]


def test_abort_sends_everything_back_to_the_stable(paths: ModelPaths, three: list[str]) -> None:
    declaring.deploy(paths, three[0])
    declaring.start_canary(paths, three[1], weight=50)

    declaring.abort(paths)

    routing = declared(paths)
    assert (routing.stable.version, routing.canary, routing.weight) == (three[0], None, 0)
    assert switching.read_current(paths) == three[0]


def test_rollback_returns_to_the_previous_stable_and_back(
    paths: ModelPaths, three: list[str]
) -> None:
    declaring.deploy(paths, three[0])
    declaring.start_canary(paths, three[1], weight=10)
    declaring.promote(paths)

    first = declaring.rollback(paths)
    second = declaring.rollback(paths)

    assert first.after.stable.version == three[0]
    assert second.after.stable.version == three[1]
    assert switching.read_current(paths) == three[1]


def test_rollback_to_a_named_version_needs_one_that_served(
    paths: ModelPaths, three: list[str]
) -> None:
    declaring.deploy(paths, three[0])
    declaring.deploy(paths, three[1])

    with pytest.raises(declaring.RolloutError, match=f"{three[2]} never served"):
        declaring.rollback(paths, three[2])
    declaring.rollback(paths, three[0])

    assert declared(paths).stable.version == three[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p, v: declaring.start_canary(p, v[1], weight=10), "nothing serves yet"),
        (lambda p, v: declaring.rollback(p), "nothing serves yet"),
        (lambda p, v: declaring.deploy(p, "20990101_000000_deadbeef"), "no registered version"),
    ],
)
def test_changes_refused_before_anything_serves(
    paths: ModelPaths, three: list[str], change: object, message: str
) -> None:
    with pytest.raises(declaring.RolloutError, match=message):
        change(paths, three)  # type: ignore[operator]
    assert routes.read_routing(paths) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p, v: declaring.set_weight(p, 30), "no canary runs"),
        (lambda p, v: declaring.promote(p), "no canary runs"),
        (lambda p, v: declaring.abort(p), "no canary runs"),
        (lambda p, v: declaring.start_canary(p, v[0], weight=10), "is the stable already"),
        (lambda p, v: declaring.rollback(p), "no version of intent served before"),
    ],
)
def test_changes_refused_while_one_version_serves(
    paths: ModelPaths, three: list[str], change: object, message: str
) -> None:
    declaring.deploy(paths, three[0])

    with pytest.raises(declaring.RolloutError, match=message):
        change(paths, three)  # type: ignore[operator]
    assert declared(paths).generation == 1


def test_changes_refused_while_a_canary_runs(paths: ModelPaths, three: list[str]) -> None:
    declaring.deploy(paths, three[0])
    declaring.start_canary(paths, three[1], weight=10)

    with pytest.raises(declaring.RolloutError, match=r"promote.*or.*abort"):
        declaring.deploy(paths, three[2])
    with pytest.raises(declaring.RolloutError, match=f"canary of {three[1]} runs already"):
        declaring.start_canary(paths, three[2], weight=10)
    with pytest.raises(StoreError, match="weight must be an integer 0-100"):
        declaring.set_weight(paths, 101)
    declaring.set_weight(paths, 100)  # the bound itself: accepted

    assert declared(paths).weight == 100
