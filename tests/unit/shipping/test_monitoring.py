"""Alerts and dashboard: promtool accepts the rules and their unit tests pass, the
PrometheusRule carries the same rules, every dashboard query parses, and every metric they
name is one the inference service or the operator exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hotswap_inference import metrics as inference_metrics
from hotswap_inference import signals
from hotswap_operator import metrics as operator_metrics
from prometheus_client import CollectorRegistry

from tests.unit.shipping.kustomizing import REPO

MONITORING = REPO / "monitoring"
RULES = MONITORING / "alerts.rules.yaml"
DASHBOARD = MONITORING / "grafana" / "hotswap.json"
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$model": ".*"}


def promtool(*args: str, cwd: Path = MONITORING) -> subprocess.CompletedProcess[str]:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool not found: run tools/install-system-deps.sh (Debian's prometheus)")
    return subprocess.run([found, *args], cwd=cwd, capture_output=True, text=True, check=False)


def dashboard_queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def substitute(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [str(rule["expr"]) for group in groups for rule in group["rules"]]


def exported_metrics() -> set[str]:
    registry = CollectorRegistry()
    inference_metrics.Metrics(registry)
    registry.register(signals.TallyCollector("m", signals.Tallies(slow_seconds=1.0)))
    operator_metrics.Metrics(registry)
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    names = {
        family.name + suffix
        for family in registry.collect()
        for suffix in suffixes.get(family.type, ("",))
    }
    return names | {"up"}


def render_prometheus_rule() -> dict[str, Any]:
    return yaml.safe_load(RULES.read_text())  # type: ignore[no-any-return]


def test_promtool_accepts_the_rules() -> None:
    done = promtool("check", "rules", str(RULES))
    assert done.returncode == 0, (
        f"expected promtool check rules to pass, saw:\n{done.stdout}{done.stderr}"
    )
    written = sum(len(group["rules"]) for group in yaml.safe_load(RULES.read_text())["groups"])
    assert written >= 7, f"expected the 7 alerts at least, the file has {written}"
    assert f"SUCCESS: {written} rules found" in done.stdout, done.stdout


def test_alerts_fire_on_their_unit_test_series() -> None:
    done = promtool("test", "rules", "alerts.test.yaml", cwd=MONITORING / "tests")
    assert done.returncode == 0, (
        f"expected the alert unit tests to pass, saw:\n{done.stdout}{done.stderr}"
    )


def test_promtool_rejects_a_broken_expression(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    rule = {"alert": "Broken", "expr": "sum by (model) (rate(hotswap_x_total[5m])"}
    broken.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}))
    assert promtool("check", "rules", str(broken)).returncode != 0


def test_prometheus_rule_carries_the_rules_file() -> None:
    resource = yaml.safe_load((MONITORING / "prometheus-rule.yaml").read_text())
    expected = render_prometheus_rule()
    assert resource["kind"] == "PrometheusRule"
    assert resource["spec"] == expected, (
        "monitoring/prometheus-rule.yaml spec differs from monitoring/alerts.rules.yaml; "
        "its spec should be:\n" + yaml.safe_dump(expected, sort_keys=False, width=100)
    )


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    queries = dashboard_queries()
    rules = [
        {"record": f"hotswap:dashboard:{i}", "expr": substitute(q)} for i, q in enumerate(queries)
    ]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    done = promtool("check", "rules", str(path))
    assert done.returncode == 0, (
        f"expected every dashboard query to parse, saw:\n{done.stdout}{done.stderr}"
    )


def test_queries_name_only_exported_metrics() -> None:
    exported = exported_metrics()
    for expr in dashboard_queries() + rule_expressions():
        for name in re.findall(r"\b(hotswap_[a-z_]+|up)\b(?=\{|\[|\))", expr):
            assert name in exported, f"{name} (in {expr!r}) is exported by no Hotswap process"


def test_dashboard_shows_what_an_operator_watches() -> None:
    text = " ".join(dashboard_queries())
    requests = "hotswap_inference_requests_total"
    durations = "hotswap_inference_request_duration_seconds_bucket"
    wanted = {
        "requests per version and arm": f"sum by (version, arm) (rate({requests}",
        "errors": 'code=~"5.."',
        "latency quantiles": f"histogram_quantile(0.99, sum by (le, arm) (rate({durations}",
        "canary weight": "hotswap_operator_canary_weight",
        "canary step": "hotswap_operator_canary_step",
        "reloads": "hotswap_inference_reloads_total",
        "loaded version per pod": "version, arm, digest) (hotswap_inference_model_info",
    }
    missing = [topic for topic, query in wanted.items() if query not in text]
    assert not missing, f"expected dashboard panels for {missing}"


def test_pod_monitors_scrape_the_metrics_port_of_both_sides() -> None:
    monitors = list(yaml.safe_load_all((MONITORING / "pod-monitors.yaml").read_text()))
    selected = sorted(
        m["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for m in monitors
    )
    assert selected == ["hotswap-inference", "hotswap-operator"]
    for monitor in monitors:
        assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"
        assert monitor["spec"]["jobLabel"] == "app.kubernetes.io/name"


PANEL_TESTS = MONITORING / "tests" / "panels.test.yaml"


def panel_cases() -> list[dict[str, Any]]:
    tests = yaml.safe_load(PANEL_TESTS.read_text())["tests"]
    return [case for test in tests for case in test.get("promql_expr_test", [])]


def test_error_panels_show_failing_arms_and_nothing_without_5xx() -> None:
    """The e2e flow has no 5xx, so there the error panels return nothing: here they must
    return each failing (version, arm), and nothing on healthy series."""
    done = promtool("test", "rules", PANEL_TESTS.name, cwd=PANEL_TESTS.parent)
    assert done.returncode == 0, (
        f"expected the panel unit tests to pass, saw:\n{done.stdout}{done.stderr}"
    )


def test_panel_tests_query_what_the_dashboard_ships() -> None:
    shipped = {substitute(query) for query in dashboard_queries()}
    cases = panel_cases()
    stale = {case["expr"] for case in cases} - shipped
    assert not stale, f"panels.test.yaml tests queries the dashboard no longer has: {stale}"
    for query in (q for q in shipped if 'code=~"5.."' in q):
        outcomes = {bool(case["exp_samples"]) for case in cases if case["expr"] == query}
        assert outcomes == {True, False}, (
            f"expected a case with series and one without for the error panel query {query}"
        )
