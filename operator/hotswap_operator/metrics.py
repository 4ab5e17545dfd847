"""The operator's Prometheus metrics, served on :9189 (HOTSWAP_OPERATOR_METRICS_PORT).

Names in brackets in DESIGN.md are the ones existing dashboards know: deploys
[model_deploys_total], versions registered [retrains_total], current version
[current_model_version].
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


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
            "1 for the version serving as stable (and as canary) of each model.",
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
