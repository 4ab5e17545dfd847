"""A real Prometheus scrapes the replicas through a rollout and evaluates every shipped expression.

Given two replicas serving v1, a third started on an empty volume (it loads nothing), the
operator on a local control plane, a Prometheus server scraping them all every second with
`monitoring/alerts.rules.yaml` loaded, live traffic, a 20% canary of v2 (rolled out by the
operator through a Canary, held by a pause step) and one refused reload, then: every alert and
Grafana expression evaluates without error and returns the series the flow should produce (the
Canary panels read the operator's gauges), after the promotion every replica reports v2 as
stable, and once the operator stops the operator-down alert's expression returns a series.
"""

from __future__ import annotations

import json

import pytest
import yaml

from hotswap.local import dataplane

from . import expressions, rollouts

NONEMPTY, EMPTY = "non-empty", "empty"
EXPECTED = {
    ("alert", "HotswapNoModelLoaded"): NONEMPTY,  # the replica on an empty volume
    ("alert", "HotswapReloadFailures"): NONEMPTY,  # the refused reload
    # EMPTY: nothing in this flow should show there; each has a twin that must show something
    # (monitoring/tests/*.test.yaml, see test_every_empty_expression_has_a_twin_that_fires)
    ("alert", "HotswapErrorRateHigh"): EMPTY,  # no 5xx in this flow
    ("alert", "HotswapCanaryErrorRateRise"): EMPTY,
    ("alert", "HotswapOperatorDown"): EMPTY,  # the operator is up (see the test after it stops)
    ("alert", "HotswapCanaryDegraded"): EMPTY,  # Degraded=False (see the condition test)
    ("alert", "HotswapOperatorReconcileFailing"): EMPTY,  # every reconcile pass succeeds
    ("panel", "Canary weight"): NONEMPTY,
    ("panel", "Canary step"): NONEMPTY,
    ("panel", "Canary weight and step over time"): NONEMPTY,
    ("panel", "Pods serving"): NONEMPTY,
    ("panel", "Requests/s"): NONEMPTY,
    ("panel", "Requests per version and arm"): NONEMPTY,
    ("panel", "Errors (5xx) per version and arm"): EMPTY,
    ("panel", "Error ratio per version and arm"): EMPTY,
    ("panel", "Latency quantiles per arm"): NONEMPTY,
    ("panel", "A/B assignments per arm"): NONEMPTY,
    ("panel", "Reloads by outcome"): NONEMPTY,
    ("panel", "Reload duration p95"): NONEMPTY,
    ("panel", "Loaded version per pod"): NONEMPTY,
}
ALL = expressions.alert_expressions() + expressions.panel_expressions(dataplane.MODEL)
REQUESTS_PER_ARM = expressions.named(ALL, "Requests per version and arm")
LOADED_PER_POD = expressions.named(ALL, "Loaded version per pod")


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> rollouts.Observed:
    return rollouts.watch_rollout(tmp_path_factory.mktemp("prometheus-flow"), ALL)


def test_every_empty_expression_has_a_twin_that_fires() -> None:
    """An expression this flow expects empty must return something somewhere: an alert fires
    in monitoring/tests/alerts.test.yaml, a panel's query returns series in panels.test.yaml
    (both run by promtool in the unit tier, tests/unit/shipping/test_monitoring.py)."""
    tests = expressions.MONITORING / "tests"
    alert_cases = [
        case
        for test in yaml.safe_load((tests / "alerts.test.yaml").read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    ]
    panel_cases = [
        case
        for test in yaml.safe_load((tests / "panels.test.yaml").read_text())["tests"]
        for case in test.get("promql_expr_test", [])
    ]
    fired = {case["alertname"] for case in alert_cases if case.get("exp_alerts")}
    shown = {case["expr"] for case in panel_cases if case.get("exp_samples")}
    missing = []
    for (kind, name), expected in EXPECTED.items():
        if expected != EMPTY:
            continue
        if kind == "alert" and name not in fired:
            missing.append(name)
        if kind == "panel" and not set(unit_queries(name)) <= shown:
            missing.append(name)
    assert not missing, f"expected empty here and never shown to return series: {missing}"


def unit_queries(title: str) -> list[str]:
    """The queries of panel `title` with Grafana's variables as the unit tier's promtool tests
    set them ($model: .*, $__rate_interval: 5m)."""
    dashboard = json.loads(expressions.DASHBOARD.read_text())
    return [
        target["expr"].replace("$__rate_interval", "5m").replace("$model", ".*")
        for panel in expressions.walk_panels(dashboard)
        if panel.get("title") == title
        for target in panel.get("targets", [])
    ]


def test_every_shipped_expression_has_an_expectation() -> None:
    shipped = {(e.kind, e.name) for e in ALL}
    assert shipped == set(EXPECTED), (
        f"unclassified: {shipped - set(EXPECTED)}, gone: {set(EXPECTED) - shipped}"
    )


@pytest.mark.parametrize("expression", ALL, ids=lambda e: e.id)
def test_prometheus_evaluates_the_expression(
    observed: rollouts.Observed, expression: expressions.Expression
) -> None:
    answer = observed.answers[expression.expr]
    assert answer.get("status") == "success", f"{expression.expr}: {answer}"
    result = answer["data"]["result"]
    expected = EXPECTED[(expression.kind, expression.name)]
    if expected == EMPTY:
        assert result == [], f"{expression.name}: expected no series in this flow, got {result}"
    else:
        assert result, f"{expression.name}: expected series during the flow, got none"


def test_requests_per_version_and_arm_include_the_canary(observed: rollouts.Observed) -> None:
    result = observed.answers[REQUESTS_PER_ARM]["data"]["result"]
    seen = rollouts.series_of(result, "version", "arm")
    expected = {(observed.stable, "stable"), (observed.canary, "canary")}
    assert seen == expected, f"expected {expected}, Prometheus shows {seen}"


def test_loaded_version_per_pod_follows_the_rollout(observed: rollouts.Observed) -> None:
    during = observed.answers[LOADED_PER_POD]["data"]["result"]
    expected_during = {
        (instance, version, arm)
        for instance in observed.instances
        for version, arm in ((observed.stable, "stable"), (observed.canary, "canary"))
    }
    assert rollouts.series_of(during, "instance", "version", "arm") == expected_during
    after = rollouts.series_of(observed.promoted, "instance", "version", "arm")
    expected_after = {(instance, observed.canary, "stable") for instance in observed.instances}
    assert after == expected_after, f"after promote: expected {expected_after}, saw {after}"


@pytest.mark.parametrize(("panel", "value"), [("Canary weight", "20"), ("Canary step", "1")])
def test_canary_panels_show_the_paused_step(
    observed: rollouts.Observed, panel: str, value: str
) -> None:
    result = observed.answers[expressions.named(ALL, panel)]["data"]["result"]
    seen = {(item["metric"].get("canary"), item["value"][1]) for item in result}
    expected = {(dataplane.MODEL, value)}
    assert seen == expected, (
        f"{panel}: expected {expected} (canary, value), Prometheus shows {seen}"
    )


def test_canary_conditions_have_one_series_each_at_their_status(
    observed: rollouts.Observed,
) -> None:
    seen = rollouts.series_of(observed.conditions, "type", "status", "reason")
    expected = {
        ("Ready", "False", "RolloutInProgress"),
        ("Progressing", "True", "Paused"),
        ("Degraded", "False", "Healthy"),
    }
    assert seen == expected, f"expected the paused Canary's conditions {expected}, saw {seen}"


def test_pods_serving_counts_the_replicas_with_a_model(observed: rollouts.Observed) -> None:
    expr = expressions.named(ALL, "Pods serving")
    result = observed.answers[expr]["data"]["result"]
    values = [float(item["value"][1]) for item in result]
    assert values == [2.0], f"expected 2 of 3 replicas serving, Prometheus shows {values}"


def test_prometheus_runs_the_rules_itself(observed: rollouts.Observed) -> None:
    rules = [rule for group in observed.rules for rule in group["rules"]]
    names = {rule["name"] for rule in rules}
    shipped = {e.name for e in ALL if e.kind == "alert"}
    assert names == shipped, f"expected rules {shipped} loaded, Prometheus has {names}"
    broken = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not broken, f"rules Prometheus could not evaluate: {broken}"
    assert ("HotswapNoModelLoaded", observed.empty_instance) in active_alerts(observed)


def test_a_refused_reload_fires_the_alert(observed: rollouts.Observed) -> None:
    active = active_alerts(observed)
    assert ("HotswapReloadFailures", observed.instances[0]) in active, active


def active_alerts(observed: rollouts.Observed) -> set[tuple[str, str]]:
    """(alert name, instance) of the pending and firing alerts."""
    return {(a["labels"]["alertname"], a["labels"].get("instance", "")) for a in observed.alerts}


def test_dashboard_model_variable_lists_the_model(observed: rollouts.Observed) -> None:
    assert observed.template_values, "expected the dashboard's $model variable (label_values)"
    for metric, values in observed.template_values.items():
        assert values == [dataplane.MODEL], f"label_values({metric}, model): {values}"


def test_operator_down_alert_sees_the_stopped_operator(observed: rollouts.Observed) -> None:
    values = [item["value"][1] for item in observed.operator_stopped]
    assert values == ["1"], f"expected absent(...) = 1 once the operator stops, got {values}"
