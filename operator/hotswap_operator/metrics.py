"""The operator's Prometheus metrics, served on :9189 (HOTSWAP_OPERATOR_METRICS_PORT).

Names in brackets in DESIGN.md are the ones existing dashboards know: deploys
[model_deploys_total], versions registered [retrains_total], current version
[current_model_version]. Version and arm labels use the pods' vocabulary (`version` a version id,
`arm` stable or canary, as `hotswap_inference_*` has them), so a PromQL join across both works.
The Canary gauges (weight, step, condition) are what the alerts and the
Grafana dashboard in monitoring/ read; they mirror each Canary's status as last written.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from hotswap import resources
from hotswap.store.routes import Routing
from hotswap_operator.statuses import CanaryStatus

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
NO_STEP = -1


@dataclass(frozen=True)
class Shown:
    """The series one Canary's gauges carry: (canary, model) of weight and step, and the
    (canary, model, type, status, reason) of each condition."""

    labels: tuple[str, str]
    conditions: frozenset[tuple[str, str, str, str, str]]


NOTHING = Shown(("", ""), frozenset())


class Metrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.deploys = Counter(
            "hotswap_operator_deploys_total",
            "Finished rollouts by model, kind (Deploy, Rollback, Initial) and outcome "
            "(Promoted, Aborted, Refused).",
            ["model", "kind", "outcome"],
            registry=registry,
        )
        self.model_deploys = Counter(
            "hotswap_model_deploys_total",
            "The same as hotswap_operator_deploys_total, under the name dashboards know.",
            ["model", "kind", "outcome"],
            registry=registry,
        )
        self.retrains = Counter(
            "hotswap_retrains_total",
            "ModelVersions verified and registered, by model and result (Verified, Rejected).",
            ["model", "result"],
            registry=registry,
        )
        self.current = Gauge(
            "hotswap_current_model_version",
            "1 for the version id serving as arm stable (and as canary) of each model, as "
            "routing.json declares it.",
            ["model", "version", "arm"],
            registry=registry,
        )
        self.verdicts = Counter(
            "hotswap_operator_analysis_verdicts_total",
            "Offline gate and analysis verdicts by model, kind and verdict.",
            ["model", "kind", "verdict"],
            registry=registry,
        )
        self.reconcile = Histogram(
            "hotswap_operator_reconcile_duration_seconds",
            "Time of one reconcile of a resource (observe, decide, actuate, write status).",
            ["kind"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.canary_weight = Gauge(
            "hotswap_operator_canary_weight",
            "Percent of requests the canary answers (status.weight), per Canary.",
            ["canary", "model"],
            registry=registry,
        )
        self.canary_step = Gauge(
            "hotswap_operator_canary_step",
            "Index of the current step (status.currentStep), -1 when no Steps rollout runs.",
            ["canary", "model"],
            registry=registry,
        )
        self.canary_condition = Gauge(
            "hotswap_operator_canary_condition",
            "1 for each condition of a Canary at its current status and reason.",
            ["canary", "model", "type", "status", "reason"],
            registry=registry,
        )
        self.shown: dict[str, Shown] = {}  # canary name -> the series its gauges carry
        self.serving: dict[str, frozenset[tuple[str, str]]] = {}  # model -> (version, arm)
        self.lock = threading.Lock()
        self.reconcile_errors = Counter(
            "hotswap_operator_reconcile_errors_total",
            "Reconcile passes that raised (logged, retried after a back-off), by kind.",
            ["kind"],
            registry=registry,
        )
        self.reconcile_errors.labels("Canary")  # at 0, so increase() sees the first one
        self.pod_requests = Counter(
            "hotswap_operator_pod_requests_total",
            "Requests to the pods' admin port, by model and call (status: GET /admin/status, "
            "reload: POST /admin/reload), answered or not.",
            ["model", "call"],
            registry=registry,
        )

    def show_canary(self, canary: str, model: str, status: CanaryStatus) -> None:
        """The Canary's gauges from its status; a condition's earlier status/reason series go."""
        labels = (canary, model)
        new = Shown(
            labels, frozenset((*labels, c.type, c.status, c.reason) for c in status.conditions)
        )
        step = NO_STEP if status.current_step is None else status.current_step
        with self.lock:
            self.remove_series(self.shown.get(canary, NOTHING), keep=new)
            self.shown[canary] = new
            self.canary_weight.labels(*labels).set(status.weight)
            self.canary_step.labels(*labels).set(step)
            for condition in new.conditions:
                self.canary_condition.labels(*condition).set(1)

    def forget_canary(self, canary: str) -> None:
        """Every series of a Canary that is gone."""
        with self.lock:
            self.remove_series(self.shown.pop(canary, NOTHING), keep=NOTHING)

    def remove_series(self, old: Shown, *, keep: Shown) -> None:
        if old.labels != keep.labels:
            self.canary_weight.remove(*old.labels)
            self.canary_step.remove(*old.labels)
        for condition in old.conditions - keep.conditions:
            self.canary_condition.remove(*condition)

    def show_serving(self, model: str, routing: Routing) -> None:
        """hotswap_current_model_version: the version ids `routing` serves, by arm; the model's
        earlier series go."""
        arms = {(routing.stable.version, resources.STABLE_ARM)}
        if routing.canary is not None:
            arms.add((routing.canary.version, resources.CANARY_ARM))
        new = frozenset(arms)
        with self.lock:
            for version, arm in self.serving.get(model, frozenset()) - new:
                self.current.remove(model, version, arm)
            self.serving[model] = new
            for version, arm in new:
                self.current.labels(model, version, arm).set(1)

    def count_outcomes(self, model: str, old: CanaryStatus, new: CanaryStatus) -> None:
        """Rollouts finished and verdicts reached between two statuses of a Canary."""
        for entry in (e for e in new.history if e not in old.history):
            self.deploys.labels(model, entry.kind, entry.outcome).inc()
            self.model_deploys.labels(model, entry.kind, entry.outcome).inc()
        if new.last_analysis and new.last_analysis != old.last_analysis:
            analysis = new.last_analysis
            self.verdicts.labels(model, analysis.kind, analysis.verdict).inc()
