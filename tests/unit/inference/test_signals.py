"""Live signals per (version, arm): what the admin status and the metrics port report."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from hotswap_inference import accelerating, predictors, signals, splitting

from hotswap.store import publishing, reports, routes
from hotswap.store.loading import LoadedVersion

from . import models, pods
from .compiled import skip_if_compiled
from .conftest import MakePod
from .test_observability import scrape, total

Versions = tuple[publishing.Published, publishing.Published]
BAD_INPUT = {"input": 7}


def keys_for(arm: str, count: int, *, weight: int = 50) -> list[str]:
    """Sticky keys that land on `arm` (the answers' X-Model-Arm confirms it)."""
    keys = (str(i) for i in range(10_000))
    return [k for k in keys if splitting.choose_arm(models.MODEL, k, weight=weight) == arm][:count]


def post(pod: pods.Pod, body: dict[str, Any], key: str) -> httpx.Response:
    return httpx.post(f"{pod.url}/predict", json=body, headers={"X-Request-Key": key})


def report_of(pod: pods.Pod) -> reports.PodReport:
    response = pod.admin("GET", "/admin/status")
    assert response.status_code == 200, response.text
    return reports.PodReport.from_dict(response.json())


def arm_of(report: reports.PodReport, version: str, arm: str) -> reports.ArmSignals:
    assert report.signals is not None, report
    found = report.signals.arm(version, arm)
    assert found is not None, f"expected signals of {(version, arm)}, saw {report.signals.arms}"
    return found


def answered_labels(responses: list[httpx.Response]) -> Counter[str]:
    labels: Counter[str] = Counter()
    for response in responses:
        body = response.json()
        labels.update(p["label"] for p in body.get("predictions", [body]))
    return labels


def raise_runtime_error(inputs: Any) -> Any:
    raise RuntimeError("the test broke this version")


@pytest.mark.parametrize("slow_seconds", [1e-9, 1e3])
def test_signals_count_per_arm_answers_server_errors_slow_answers_and_labels(
    make_pod: MakePod,
    root: Path,
    two_versions: Versions,
    monkeypatch: pytest.MonkeyPatch,
    slow_seconds: float,
) -> None:
    stable, canary = two_versions
    models.write_routing(root, stable, canary, weight=50, generation=1)
    pod = make_pod(slow_seconds=slow_seconds)
    pod.wait_for(lambda: pod.service.reloader.state.canary() is not None, "a canary")
    on_stable, on_canary = keys_for("stable", 6), keys_for("canary", 5)
    stable_answers = [post(pod, {"input": "pizza please"}, key) for key in on_stable]
    canary_answers = [
        post(pod, {"inputs": ["hello", "so sad", "a recipe"]}, k) for k in on_canary[:2]
    ]
    refused = [post(pod, BAD_INPUT, key) for key in on_stable[:2] + on_canary[:2]]
    broken = pod.service.reloader.state.canary().predictor
    skip_if_compiled(broken, "predict_own")
    monkeypatch.setattr(broken, "predict_own", raise_runtime_error)
    monkeypatch.setattr(broken, "predict", raise_runtime_error)
    failed = [post(pod, {"input": "hello"}, key) for key in on_canary[2:]]

    assert [r.status_code for r in stable_answers + canary_answers] == [200] * 8
    assert {r.headers["X-Model-Arm"] for r in stable_answers} == {"stable"}
    assert {r.headers["X-Model-Arm"] for r in canary_answers + failed} == {"canary"}
    assert [r.status_code for r in refused] == [400] * 4 and [r.status_code for r in failed] == [
        500
    ] * 3
    report = report_of(pod)
    seen_stable, seen_canary = (
        arm_of(report, stable.version, "stable"),
        arm_of(report, canary.version, "canary"),
    )
    assert (seen_stable.requests, seen_stable.errors) == (6, 0), "4xx are not counted"
    assert (seen_canary.requests, seen_canary.errors) == (5, 3), "2 answers and 3 server errors"
    answered = {"stable": 6, "canary": 2}
    for seen, responses in ((seen_stable, stable_answers), (seen_canary, canary_answers)):
        assert seen.latency.count == answered[seen.arm], seen.latency
        assert seen.slow == (answered[seen.arm] if slow_seconds < 1 else 0), (slow_seconds, seen)
        assert Counter(seen.labels) == answered_labels(responses), seen.labels
        assert seen.confidence.count == sum(seen.labels.values()), seen.confidence
    assert report.signals is not None and report.signals.slow_seconds == slow_seconds

    series = scrape(pod)
    slow = series["hotswap_inference_slow_requests_total"]
    assert total(slow, arm="stable", version=stable.version) == seen_stable.slow, slow
    assert total(slow, arm="canary", version=canary.version) == seen_canary.slow, slow
    labels = series["hotswap_inference_predicted_labels_total"]
    for label, count in seen_canary.labels.items():
        assert total(labels, arm="canary", label=label) == count, labels
    requests = series["hotswap_inference_requests_total"]
    assert total(requests, arm="canary", code="500") == 3 and total(requests, code="400") == 4
    assert total(requests, arm="stable", code="200") == 6, requests
    routed = series["hotswap_abtest_requests_total"]  # answered, refused and failed alike
    assert total(routed, arm="stable") == 8 and total(routed, arm="canary") == 7, routed
    for seen in (seen_stable, seen_canary):
        key = {"arm": seen.arm, "version": seen.version}
        durations = series["hotswap_inference_request_duration_seconds_bucket"]
        assert total(durations, le="+Inf", **key) == seen.latency.count, durations
        assert total(durations, le="0.001", **key) <= seen.latency.count
        count = series["hotswap_inference_prediction_confidence_ratio_count"]
        assert total(count, **key) == seen.confidence.count, count
    info = series["hotswap_inference_process_info"]
    assert [got["epoch"] for got, _ in info] == [report.signals.epoch], info


def test_feedback_is_credited_to_the_signals_and_the_metrics(
    make_pod: MakePod, root: Path, two_versions: Versions
) -> None:
    models.write_routing(root, two_versions[0], generation=1)
    pod = make_pod()
    tokens = [
        httpx.post(f"{pod.url}/predict", json={"input": "hi"}).json()["feedback_token"]
        for _ in range(3)
    ]
    for token, reward in zip(tokens, (1.0, 0.5, 0.0), strict=True):
        response = httpx.post(
            f"{pod.url}/feedback", json={"feedback_token": token, "reward": reward}
        )
        assert response.status_code == 200, response.text
    seen = arm_of(report_of(pod), two_versions[0].version, "stable")
    assert (seen.feedback_count, seen.feedback_sum, seen.feedback_sum_squares) == (3, 1.5, 1.25), (
        seen
    )
    series = scrape(pod)
    assert total(series["hotswap_feedback_reward_squares_total"], arm="stable") == 1.25
    assert total(series["hotswap_feedback_reward_ratio_sum"], arm="stable") == 1.5


def test_the_reload_answer_is_a_report_too(
    make_pod: MakePod, root: Path, two_versions: Versions
) -> None:
    models.write_routing(root, two_versions[0], generation=1)
    pod = make_pod()
    # not written to routing.json: the poller (every 0.2 s) would apply it before the POST
    routing = routes.Routing(stable=models.arm(two_versions[1]), generation=2)
    response = pod.admin("POST", "/admin/reload", json=models.reload_body(routing))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.pop("outcome") == "applied", body
    report = reports.PodReport.from_dict(body)
    assert report.reports(routing) and report.signals is not None, report


def test_a_restart_has_a_new_epoch_and_counts_from_zero(
    make_pod: MakePod, root: Path, two_versions: Versions
) -> None:
    models.write_routing(root, two_versions[0], generation=1)
    first = make_pod()
    assert httpx.post(f"{first.url}/predict", json={"input": "hi"}).status_code == 200
    before = report_of(first).signals
    first.stop()
    second = make_pod()
    after = report_of(second).signals
    assert before is not None and after is not None
    assert [a.requests for a in before.arms] == [1], before.arms
    assert after.epoch != before.epoch, f"expected a new epoch after a restart, saw {after.epoch}"
    assert after.arms == [], f"expected no counts in a new process, saw {after.arms}"


def test_a_forked_child_draws_its_own_epoch_and_starts_from_zero(two_versions: Versions) -> None:
    tallies = signals.Tallies(slow_seconds=0.25)
    tallies.of(two_versions[0].version, "stable").failed(500)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report and leave at once
        seen = tallies.snapshot()
        os.write(writer, json.dumps([seen.epoch, len(seen.arms)]).encode())
        os._exit(0)
    os.close(writer)
    deadline = time.monotonic() + 10
    while os.waitpid(child, os.WNOHANG) == (0, 0):
        assert time.monotonic() < deadline, "the forked child did not exit"
        time.sleep(0.01)
    epoch, arms = json.loads(os.read(reader, 1000))
    os.close(reader)
    parent = tallies.snapshot()
    assert epoch != parent.epoch and arms == 0, f"child: {epoch} with {arms} arms"
    assert len(parent.arms) == 1 and parent.arms[0].errors == 1, parent.arms


def test_counting_runs_on_the_event_loop_thread_even_on_the_sklearn_path(
    make_pod: MakePod, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The premise of the lock-free tallies: one writer thread, the loop's."""

    def plain(loaded: LoadedVersion, **_: Any) -> tuple[predictors.Predictor, str]:
        return predictors.SklearnPredictor(loaded.estimator), "unsupported: forced by the test"

    monkeypatch.setattr(accelerating, "build_predictor", plain)
    threads: list[int] = []
    real = signals.ArmTally.answered

    def recording(self: signals.ArmTally, *args: Any) -> None:
        threads.append(threading.get_ident())
        real(self, *args)

    monkeypatch.setattr(signals.ArmTally, "answered", recording)
    models.write_routing(root, models.publish_text(root), generation=1)
    pod = make_pod()
    for _ in range(3):
        assert httpx.post(f"{pod.url}/predict", json={"inputs": ["a", "b"]}).status_code == 200
    assert len(threads) == 3 and set(threads) == {pod.loop_thread}, (threads, pod.loop_thread)
