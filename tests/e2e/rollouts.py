"""The flow the Prometheus e2e test watches, and what Prometheus answered along it.

Two replicas serve v1 and a third runs on an empty volume (it loads nothing); the operator runs
on a local control plane; Prometheus scrapes them all every second with the alert rules loaded.
The replicas are registered as pods and a Canary of the model is Ready on v1. Under live
traffic: v2 rolled out through the Canary (Steps: 20%, then a pause), one refused reload, every
expression evaluated, the promotion (the promote annotation), the operator stopped.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hotswap.local import dataplane, replicas, traffic

from . import expressions, fleets, operators, scraping

CONDITIONS = f'hotswap_operator_canary_condition{{canary="{dataplane.MODEL}"}}'


@dataclass
class Observed:
    """What Prometheus answered during the canary phase and after the promotion."""

    stable: str
    canary: str
    instances: list[str]  # the two serving replicas' metrics targets
    empty_instance: str
    answers: dict[str, dict[str, Any]]  # expr -> the raw /api/v1/query body, canary phase
    rules: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    template_values: dict[str, list[str]]
    promoted: list[
        dict[str, Any]
    ]  # expressions.named(shipped, "Loaded version per pod") after the promotion
    operator_stopped: list[dict[str, Any]]  # HotswapOperatorDown's expression, operator stopped
    conditions: list[dict[str, Any]]  # the Canary's condition gauge, canary phase


def refuse_a_reload(pod: replicas.Replica) -> None:
    """POST the serving routing with a wrong digest: the pod refuses it (load_failed, 422)."""
    status = pod.admin_status()
    stable = status["stable"] | {"digest": "sha256:" + "0" * 64}
    body = {"model": status["model"], "generation": 1000, "weight": 0, "stable": stable}
    request = urllib.request.Request(
        f"http://{pod.host}:{pod.admin_port}/admin/reload",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {pod.token}", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30).close()
    with refused.value as answer:
        assert answer.code == 422, f"expected 422 load_failed, got {answer.code} {answer.read()!r}"


def series_of(result: list[dict[str, Any]], *labels: str) -> set[tuple[str, ...]]:
    return {tuple(item["metric"].get(label, "") for label in labels) for item in result}


@contextlib.contextmanager
def unloaded_replica(workdir: Path) -> Iterator[replicas.Replica]:
    """A replica on an empty volume: it runs, serves metrics, and loads no model."""
    (workdir / "models").mkdir(parents=True)
    pod = replicas.spawn_replica(
        workdir / "models", dataplane.MODEL, name="empty", token="unused", log_dir=workdir
    )
    try:
        yield pod
    finally:
        replicas.stop_replica(pod)


def metrics_target(pod: replicas.Replica) -> str:
    return f"{pod.host}:{pod.metrics_port}"


def watch_rollout(workdir: Path, shipped: list[expressions.Expression]) -> Observed:
    """Run the flow; Prometheus' answers to every `shipped` expression during the canary."""
    with contextlib.ExitStack() as stack:
        fleet = stack.enter_context(fleets.serving(workdir / "fleet", count=2))
        empty = stack.enter_context(unloaded_replica(workdir / "empty"))
        token = fleet.pods[0].token
        operator = stack.enter_context(
            operators.running(workdir, model_root=fleet.paths.root, token=token)
        )
        canary = stack.enter_context(
            operators.given_canary(operator, fleet.pods, fleet.paths, fleet.stable)
        )
        jobs = {
            scraping.INFERENCE_JOB: [metrics_target(p) for p in [*fleet.pods, empty]],
            scraping.OPERATOR_JOB: [operator.metrics_target],
        }
        rules, log = expressions.RULES, workdir / "prometheus.log"
        server = stack.enter_context(scraping.running(jobs=jobs, rules=rules, log=log))
        stack.enter_context(traffic.LiveTraffic(fleet.load(requests=100_000, seconds=120)))
        targets = sum(len(job) for job in jobs.values())
        up = server.wait_for("up == 1", lambda r: len(r) == targets)
        assert len(up) == targets, f"expected {jobs} up, Prometheus sees {up}; see {log}"
        seen = observe(server, shipped, fleet=fleet, empty=empty, operator=operator, rollout=canary)
    return seen


def observe(
    server: scraping.Prometheus,
    shipped: list[expressions.Expression],
    *,
    fleet: fleets.Fleet,
    empty: replicas.Replica,
    operator: operators.Operator,
    rollout: operators.Canary,
) -> Observed:
    stable, canary = fleet.stable, dataplane.train(fleet.paths, fleet.progress, seed=2)
    rollout.deploy(canary, weight=20)
    refuse_a_reload(fleet.pods[0])
    both_arms = {(stable, "stable"), (canary, "canary")}
    server.wait_for(
        expressions.named(shipped, "Requests per version and arm"),
        lambda r: series_of(r, "version", "arm") >= both_arms,
    )
    failures = expressions.named(shipped, "HotswapReloadFailures")
    server.wait_for(failures, bool, timeout=10)
    # The rule group evaluates on its own clock: wait for it to have seen the failure too.
    server.wait_for('ALERTS{alertname="HotswapReloadFailures"}', bool, timeout=10)
    conditions = server.wait_for(CONDITIONS, lambda r: len(r) == 3)
    answers = {e.expr: server.get("query", query=e.expr) for e in shipped}
    rules = server.api("rules")["groups"]
    alerts = server.api("alerts")["alerts"]
    template_values = {
        metric: server.api("label/model/values", **{"match[]": metric})
        for metric in expressions.template_metrics()
    }
    rollout.promote(canary)
    promoted = server.wait_for(
        expressions.named(shipped, "Loaded version per pod"),
        lambda r: series_of(r, "version", "arm") == {(canary, "stable")},
    )
    operator.stop()
    operator_down = expressions.named(shipped, "HotswapOperatorDown")
    operator_stopped = server.wait_for(operator_down, bool, timeout=15)
    instances = [metrics_target(p) for p in fleet.pods]
    return Observed(
        stable, canary, instances, metrics_target(empty), answers, rules, alerts,
        template_values, promoted, operator_stopped, conditions,
    )  # fmt: skip
