"""`make bench-scale` at a tiny size (3 Canaries x 3 simulated pods, 6 ModelVersions) on the
session's control plane, so the bench's machinery cannot rot: the pod simulator registered as
Pods, every Canary Ready after the change, and each figure read from where the bench says.
The versions hold the store tests' tiny model instead of a trained one (training takes ~9 s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from bench import scale
from hotswap.cluster import clusters
from hotswap.local.environments import Environment
from tests.integration.conftest import operator_environment
from tests.unit.store.conftest import write_tiny_model


@pytest.fixture
def env(
    control_plane: clusters.Cluster, api_client: client.ApiClient, tmp_path: Path
) -> Iterator[Environment]:
    with operator_environment(control_plane, api_client, tmp_path, model="scale") as found:
        yield found


def test_the_scale_bench_measures_every_canary_ready_after_the_change(env: Environment) -> None:
    size = scale.Size(canaries=3, pods=3, versions=6)

    template = scale.Template(write_tiny_model, {"accuracy": 0.9, "macroF1": 0.9})

    # idle longer than a settled Canary rests between passes (10 ticks of 0.5 s: runtimes.py)
    row: dict[str, Any] = scale.measure_size(env, size, template, idle=6.0, timeout=60.0)

    change = row["change"]
    assert (change["ready"], change["of"], change["not_ready"]) == (3, 3, []), change
    for model in scale.model_names(size):  # the simulator is gone: the operator's record
        status = env.objects.get("canaries", model)["status"]
        done = [h for h in status["history"] if h.get("fromVersion") and h["outcome"] == "Promoted"]
        assert [h["version"] for h in done] == [status["stableVersion"]], status["history"]
        assert done[0]["message"].endswith("serves as stable on 3 ready pods"), done
    assert change["reconciles"] > 0 and change["reconcile_p50_s"] <= change["reconcile_p99_s"]
    assert change["api_requests_per_reconcile"] > 0, change["api_requests_by_kind"]
    assert "PATCH canaries" in change["api_requests_by_kind"], "the operator's status writes"
    assert 0 < row["operator_rss_mb"] <= row["operator_peak_rss_mb"]
    assert row["idle"]["reconciles"] > 0, "the idle window saw the operator's ticks"
