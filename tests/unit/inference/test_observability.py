"""Metrics on the metrics port, the query log, mirrored traffic and feedback."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hotswap.store import publishing

from . import models, pods
from .conftest import MakePod

Versions = tuple[publishing.Published, publishing.Published]
EXPECTED_SERIES = {
    "hotswap_inference_requests_total",
    "hotswap_inference_request_duration_seconds_bucket",
    "hotswap_inference_prediction_confidence_ratio_bucket",
    "hotswap_inference_model_info",
    "hotswap_inference_reloads_total",
    "hotswap_inference_reload_duration_seconds_count",
    "hotswap_abtest_requests_total",
    "hotswap_system_health",
    "hotswap_feedback_reward_ratio_count",
    "hotswap_mirror_predictions_total",
    "hotswap_fastpath_info",
    "hotswap_inference_slow_requests_total",
    "hotswap_inference_predicted_labels_total",
    "hotswap_feedback_reward_squares_total",
    "hotswap_inference_process_info",
}


def scrape(pod: pods.Pod) -> dict[str, list[tuple[dict[str, str], float]]]:
    text = httpx.get(f"{pod.metrics_url}/metrics").text
    series: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            series.setdefault(sample.name, []).append((sample.labels, sample.value))
    return series


def read_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def total(series: list[tuple[dict[str, str], float]], **labels: str) -> float:
    return sum(v for got, v in series if all(got.get(k) == w for k, w in labels.items()))


def test_metrics_query_log_mirror_and_feedback_after_traffic(
    make_pod: MakePod, root: Path, two_versions: Versions, tmp_path: Path
) -> None:
    stable, canary = two_versions
    models.write_routing(root, stable, canary, weight=50, mirror_percent=100, generation=1)
    log_file = tmp_path / "queries.jsonl"
    pod = make_pod(query_log_file=log_file)
    pod.wait_for(lambda: pod.service.reloader.state.canary() is not None, "a canary")
    answers = [
        httpx.post(
            f"{pod.url}/predict", json={"input": "refund"}, headers={"X-Request-Key": str(i)}
        )
        for i in range(40)
    ]
    refused = httpx.post(f"{pod.url}/predict", json={"input": 7}, headers={"X-Request-Key": "0"})
    first = answers[0].json()
    reward = {"feedback_token": first["feedback_token"], "reward": 1}
    assert httpx.post(f"{pod.url}/feedback", json=reward).status_code == 200
    stable_count = sum(1 for a in answers if a.headers["X-Model-Arm"] == "stable")
    pod.wait_for(
        lambda: (
            total(scrape(pod).get("hotswap_mirror_predictions_total", []), outcome="ok")
            >= stable_count
        ),
        f"{stable_count} mirrored predictions",
    )

    series = scrape(pod)
    missing = EXPECTED_SERIES - set(series)
    assert not missing, f"expected series {sorted(missing)} after traffic"
    requests = series["hotswap_inference_requests_total"]
    assert total(requests, code="200") == 40, requests
    assert total(requests, code="400") == 1, requests
    canary_count = 40 - stable_count + (refused.headers["X-Model-Arm"] == "canary")
    assert total(series["hotswap_abtest_requests_total"], arm="canary") == canary_count
    assert total(series["hotswap_system_health"]) == 1
    info = {(got["version"], got["arm"]) for got, _ in series["hotswap_inference_model_info"]}
    assert info == {(stable.version, "stable"), (canary.version, "canary")}, info
    rewards = series["hotswap_feedback_reward_ratio_count"]
    assert total(rewards, version=first["model_version"], arm=first["arm"]) == 1, rewards

    expected_lines = 40 + stable_count  # the log is written every few ms, off the request path
    pod.wait_for(lambda: len(read_lines(log_file)) >= expected_lines, f"{expected_lines} lines")
    lines = read_lines(log_file)
    served = [line for line in lines if not line.get("shadow")]
    shadows = [line for line in lines if line.get("shadow")]
    assert len(served) == 40, f"expected 40 query-log lines, saw {len(served)}"
    assert all(line["model_version"] in {stable.version, canary.version} for line in lines)
    keys = {"request_id", "model", "model_version", "arm", "latency_ms", "label", "confidence"}
    assert keys | {"ts"} <= set(served[0]), served[0]
    assert len(shadows) == stable_count and {s["model_version"] for s in shadows} <= {
        canary.version
    }, shadows[:2]
