"""More Canaries than the operator has reconcile threads all converge (issue 12 item 4): the real
operator with a pool of 2 (HOTSWAP_OPERATOR_RECONCILE_THREADS) and 5 Canaries x 3 simulated
pods, each Ready at its first version, then every version changed at once and every Canary Ready
at its new one. A daemon that held its thread between passes would leave 3 of the 5 without a
status for ever (docs/scale.md: 64 threads, 64 of 100 Canaries). The bench's machinery runs it,
with the store tests' tiny model instead of a trained one."""

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

THREADS = 2
SIZE = scale.Size(canaries=5, pods=3, versions=10)


@pytest.fixture
def env(
    control_plane: clusters.Cluster, api_client: client.ApiClient, tmp_path: Path
) -> Iterator[Environment]:
    with operator_environment(
        control_plane,
        api_client,
        tmp_path,
        model="pool",
        extra={"HOTSWAP_OPERATOR_RECONCILE_THREADS": str(THREADS)},
    ) as found:
        yield found


def test_more_canaries_than_reconcile_threads_all_become_ready(env: Environment) -> None:
    assert SIZE.canaries > THREADS, "the premise: more Canaries than threads"
    template = scale.Template(write_tiny_model, {"accuracy": 0.9, "macroF1": 0.9})

    row: dict[str, Any] = scale.measure_size(env, SIZE, template, idle=1.0, timeout=90.0)

    assert env.operator is not None
    started = env.operator.log.read_text()
    assert f"{THREADS} reconcile threads" in started, "the premise: the operator ran with 2"
    for phase in ("initial", "change"):  # Ready, its version stable on all 3 pods (is_converged)
        found = row[phase]
        assert (found["ready"], found["of"], found["not_ready"]) == (5, 5, []), (phase, found)
