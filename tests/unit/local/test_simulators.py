"""The pod simulator (`hotswap.local.simulators`) against the operator's own reload client
(`hotswap.store.signalling`): the same requests, the same typed `PodReport` back, the same
refusals as a real pod, so the protocol cannot drift between them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotswap.local import simulators
from hotswap.store import routes, signalling, versions
from hotswap.store.layout import ModelPaths
from hotswap.store.reports import PodReport
from hotswap.store.routes import Arm, Routing
from tests.unit.store.conftest import MODEL

TOKEN = "simulated-token"
TIMEOUT = 5.0


def arm(paths: ModelPaths, version: str) -> Arm:
    return Arm(version, versions.get_version(paths, version).digest)


def reload(pod: simulators.SimulatedPod, routing: Routing, **kw: str) -> signalling.Reply:
    sent = {"model": MODEL, "token": TOKEN} | kw
    found = signalling.reload_pods(
        [pod.address], routing, model=sent["model"], token=sent["token"], timeout=TIMEOUT
    )
    return found[0]


def status(pod: simulators.SimulatedPod) -> PodReport:
    reply = signalling.read_pods([pod.address], token=TOKEN, timeout=TIMEOUT)[0]
    assert reply.report is not None, f"status of {pod.name} is no report: {reply}"
    return reply.report


@pytest.fixture
def pods(root: Path) -> Iterator[list[simulators.SimulatedPod]]:
    planned = simulators.plan_pods([MODEL, "other"], per_model=3)
    with simulators.serving(root, planned, token=TOKEN, poll_interval=0.1) as simulator:
        yield simulator.pods


def test_pods_listen_on_their_own_loopback_addresses_and_start_serving_nothing(
    pods: list[simulators.SimulatedPod],
) -> None:
    assert len({pod.host for pod in pods}) == 6 and all(pod.port for pod in pods)
    assert all(pod.host.startswith("127.0.100.") for pod in pods)
    report = status(pods[0])
    assert (report.model, report.ready, report.routing, report.last_error) == (
        MODEL,
        False,
        None,
        None,
    )
    assert report.signals is not None and report.signals.arms == []


def test_a_reload_with_the_token_is_applied_and_reported_without_it_refused(
    paths: ModelPaths, three: list[str], pods: list[simulators.SimulatedPod]
) -> None:
    routing = Routing(arm(paths, three[0]), arm(paths, three[1]), weight=20, generation=3)

    refused = reload(pods[0], routing, token="wrong")
    applied = reload(pods[0], routing)

    assert refused.code == 401 and refused.body["error"] == "unauthorized"
    assert applied.code == 200 and applied.body["outcome"] == "applied"
    assert applied.reports(routing), applied.body
    assert status(pods[0]).reports(routing)
    assert status(pods[0]).predictors[three[1]].kind == "simulated"
    assert status(pods[1]).routing is None, "only the signalled pod changed"


def test_the_same_generation_is_a_noop_and_an_older_one_stale_unless_declared(
    paths: ModelPaths, three: list[str], pods: list[simulators.SimulatedPod]
) -> None:
    newer = Routing(arm(paths, three[1]), generation=5)
    older = Routing(arm(paths, three[0]), generation=4)
    reload(pods[0], newer)

    again = reload(pods[0], newer)
    stale = reload(pods[0], older)
    routes.write_routing(paths, older)  # a re-created Canary declares a lower generation
    declared = reload(pods[0], older)

    assert again.code == 200 and again.body["outcome"] == "noop"
    assert stale.code == 409 and stale.body["generation"] == 5, stale.body
    assert declared.code == 200 and declared.reports(older), declared.body


def test_a_version_whose_digest_does_not_match_fails_to_load_and_is_reported(
    paths: ModelPaths, three: list[str], pods: list[simulators.SimulatedPod]
) -> None:
    good = arm(paths, three[0])
    wrong = Routing(good, Arm(three[1], good.digest), weight=10, generation=2)

    failed = reload(pods[0], wrong)
    report = status(pods[0])

    assert failed.code == 422 and failed.body["error"] == "load_failed", failed.body
    assert three[1] in failed.body["message"] and "digest mismatch" in failed.body["message"]
    error = report.failure_at(2)
    assert error is not None and error.version == three[1], report
    assert report.routing is None


def test_a_reload_for_another_model_is_refused_naming_the_model(
    paths: ModelPaths, three: list[str], pods: list[simulators.SimulatedPod]
) -> None:
    routing = Routing(arm(paths, three[0]), generation=1)

    wrong = reload(pods[3], routing)  # pods[3] serves "other"
    right = reload(pods[0], routing)

    assert wrong.code == 422 and wrong.body["error"] == "wrong_model", wrong.body
    assert "'other'" in wrong.body["message"]
    assert right.code == 200


def test_pods_pick_up_routing_json_by_their_poll_without_a_signal(
    paths: ModelPaths, three: list[str], pods: list[simulators.SimulatedPod]
) -> None:
    routing = Routing(arm(paths, three[2]), generation=7)
    routes.write_routing(paths, routing)

    deadline = time.monotonic() + TIMEOUT
    while not all(status(p).reports(routing) for p in pods[:3]) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert [status(p).reports(routing) for p in pods[:3]] == [True] * 3
    assert [status(p).routing for p in pods[3:]] == [None] * 3, "another model's pods changed"


def test_the_simulator_process_serves_every_planned_pod(
    paths: ModelPaths, three: list[str], tmp_path: Path
) -> None:
    planned = simulators.plan_pods([MODEL], per_model=2)
    started = simulators.spawn_simulator(paths.root, planned, token=TOKEN, workdir=tmp_path)
    try:
        routing = Routing(arm(paths, three[0]), generation=1)
        replies = signalling.reload_pods(
            [pod.address for pod in started.pods], routing, model=MODEL, token=TOKEN, timeout=5
        )
    finally:
        started.stop()

    assert [reply.reports(routing) for reply in replies] == [True, True], replies
    assert started.process.returncode == 0, started.log.read_text()
