"""Prometheus metrics of one inference process (one uvicorn worker per pod).

Names follow `hotswap_<subsystem>_<name>_<unit>`; labels take bounded values only (model,
version, arm, code, outcome, kind). The registry is passed in, so each test has its own.
The series of the request path (requests by code, A/B assignments, duration and confidence
histograms, slow answers, labels) are built at scrape time from the tallies
(`signals.TallyCollector`): the request path counts once, in plain integers.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
RATIO_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
LAG_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1.0)
RELOAD_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ARM_LABELS = ("model", "version", "arm")


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.model_info = Gauge(
            "hotswap_inference_model_info",
            "1 for each version this process serves, with its digest and arm.",
            ["model", "version", "digest", "arm"],
            registry=registry,
        )
        self.reloads = Counter(
            "hotswap_inference_reloads_total",
            "Reload attempts by outcome (applied, noop, stale, load_failed, invalid).",
            ["model", "outcome"],
            registry=registry,
        )
        self.reload_duration = Histogram(
            "hotswap_inference_reload_duration_seconds",
            "Time to verify, load, warm and swap the versions of one applied reload.",
            ["model"],
            buckets=RELOAD_BUCKETS,
            registry=registry,
        )
        self.loop_lag = Histogram(
            "hotswap_inference_loop_lag_seconds",
            "How late the event loop ran a 10 ms timer, during a reload or steady.",
            ["model", "during"],
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.reload_loop_lag_max = Gauge(
            "hotswap_inference_reload_loop_lag_max_seconds",
            "The longest event-loop lag during the last reload (start to heap freeze): wall, "
            "or the part other threads of this process ran meanwhile (threads).",
            ["model", "part"],
            registry=registry,
        )
        self.health = Gauge(
            "hotswap_system_health",
            "1 when this process has a model loaded and serves, else 0.",
            ["model"],
            registry=registry,
        )
        self.rewards = Histogram(
            "hotswap_feedback_reward_ratio",
            "Feedback rewards in [0, 1] by version and arm (_sum / _count is the mean).",
            ARM_LABELS,
            buckets=RATIO_BUCKETS,
            registry=registry,
        )
        self.mirrored = Counter(
            "hotswap_mirror_predictions_total",
            "Shadow predictions by the canary on mirrored stable traffic, by outcome.",
            ["model", "version", "outcome"],
            registry=registry,
        )
        self.fastpath = Gauge(
            "hotswap_fastpath_info",
            "1 per loaded version: predictor kind and fallback kind ('' on the fast path).",
            ["model", "version", "kind", "fallback"],
            registry=registry,
        )
        self.fallbacks = Counter(
            "hotswap_fastpath_fallbacks_total",
            "Versions loaded on the plain sklearn path, by fallback kind.",
            ["model", "fallback"],
            registry=registry,
        )
