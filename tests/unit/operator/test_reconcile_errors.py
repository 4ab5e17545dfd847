"""A failing reconcile pass is counted (hotswap_operator_reconcile_errors_total{kind}), not only
logged, so the HotswapOperatorReconcileFailing alert can read it; a passing one is not."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hotswap_operator import handlers, reconciling
from hotswap_operator.metrics import Metrics
from hotswap_operator.runtimes import Config, Runtime
from prometheus_client import CollectorRegistry

ERRORS = "hotswap_operator_reconcile_errors_total"
UID = "uid-1"
BODY = {"metadata": {"resourceVersion": "1", "generation": 1}, "spec": {}}


def errors(registry: CollectorRegistry) -> float | None:
    return registry.get_sample_value(ERRORS, {"kind": "Canary"})


def run_once(monkeypatch: pytest.MonkeyPatch, reconcile: Any, *, passes: bool) -> CollectorRegistry:
    """One pass; it returns at once either way with the rest to take: the tick after a passing
    pass, the back-off after a failed one (the daemon awaits either itself)."""
    registry = CollectorRegistry()
    apis: Any = None
    runtime = Runtime(Config(model_root=Path("/nonexistent")), apis, Metrics(registry))
    monkeypatch.setattr(reconciling, "reconcile_canary", reconcile)
    context = SimpleNamespace(namespace="hotswap", name="intent")
    rest = handlers.reconcile_safely(runtime, context, UID, dict(BODY))
    assert rest == (runtime.config.tick_seconds if passes else handlers.ERROR_BACKOFF_SECONDS)
    runtime.pool.shutdown()
    return registry


def test_the_counter_starts_at_zero_and_a_passing_reconcile_leaves_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = run_once(monkeypatch, lambda ctx, body, *_: body, passes=True)
    assert errors(registry) == 0.0, "the series exists at 0, so increase() sees the first error"


def test_a_failing_reconcile_is_counted_and_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(ctx: Any, body: Any, *_: Any) -> Any:
        raise RuntimeError("the API server went away")

    with caplog.at_level(logging.ERROR, logger=handlers.__name__):
        registry = run_once(monkeypatch, failing, passes=False)
    assert errors(registry) == 1.0
    assert "reconcile of Canary hotswap/intent failed" in caplog.text, caplog.text
