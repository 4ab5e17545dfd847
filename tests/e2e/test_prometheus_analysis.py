"""The analysis reads the pods' signals from a real Prometheus (`spec.analysis.prometheus`).

Two replicas serve v1, Prometheus scrapes them every second, the operator runs on a local
control plane, and live traffic rewards every answer from its true label. A version trained
on half-wrong labels is rolled out at 50% with an analysis step whose source is that
Prometheus: the operator sums `increase()` of the pods' series over its window and rolls the
canary back on the reward, without dialling any pod for signals.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from hotswap.local import dataplane, objects, traffic

from . import expressions, fleets, operators, rollouts, scraping


@pytest.fixture(scope="module")
def rolled_back(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], int]:
    workdir: Path = tmp_path_factory.mktemp("prometheus-analysis")
    with contextlib.ExitStack() as stack:
        fleet = stack.enter_context(fleets.serving(workdir / "fleet", count=2))
        operator = stack.enter_context(
            operators.running(workdir, model_root=fleet.paths.root, token=fleet.pods[0].token)
        )
        canary = stack.enter_context(
            operators.given_canary(operator, fleet.pods, fleet.paths, fleet.stable)
        )
        jobs = {scraping.INFERENCE_JOB: [rollouts.metrics_target(p) for p in fleet.pods]}
        server = stack.enter_context(
            scraping.running(jobs=jobs, rules=expressions.RULES, log=workdir / "prometheus.log")
        )
        load = traffic.Load(
            tuple(p.target for p in fleet.pods),
            60_000,
            300.0,
            threads=2,
            pause=0.005,
            labelled=traffic.labelled_texts(),
        )
        live = stack.enter_context(traffic.LiveTraffic(load))
        noisy = dataplane.train(fleet.paths, fleet.progress, seed=3, label_noise=0.5)
        steps = [{"name": "half", "setWeight": 50}, {"name": "check", "analysis": {}}]
        spec = {
            "version": canary.register(noisy),
            "strategy": {"type": "Steps", "steps": steps},
            "analysis": {"prometheus": {"url": server.url}},
        }
        canary.objects.patch("canaries", canary.name, {"spec": spec})
        status = objects.wait_for_status(
            canary.objects,
            canary.name,
            lambda s: objects.has_condition(s, "Degraded", "AnalysisFailed"),
            what="rolled back by the analysis read from Prometheus",
            timeout=180,
        )
        seen = live.snapshot()
    return status, seen.failed


def test_the_canary_is_rolled_back_from_prometheus_series(
    rolled_back: tuple[dict[str, Any], int],
) -> None:
    status, failed = rolled_back
    window = status["analysis"]
    assert window["source"] == "Prometheus", f"expected the Prometheus source: {window}"
    assert window["pods"] == [], "the Prometheus source keeps no per-pod baselines"
    last = status["lastAnalysis"]
    assert last["verdict"] == "Fail" and last["metric"] == "reward", last
    assert last["canary"] < last["stable"], last
    assert window["totals"]["canary"]["feedbackCount"] > 0
    assert window["totals"]["stable"]["requests"] > 0 and window["totals"]["canary"]["requests"] > 0
    assert failed == 0, f"expected 0 failed requests during the rollback, saw {failed}"
