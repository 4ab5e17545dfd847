"""`make bench-swap` (bench/swap.py): its windows, their pooling, and a short real run."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


def load_bench() -> ModuleType:
    """bench/swap.py as a module; bench/ is on sys.path only while it and the bench modules it
    imports load (its file names are generic: switch, scale, analysis)."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("swap")
    finally:
        sys.path.remove(str(BENCH))


swap = load_bench()


def test_pooled_p99_is_the_nearest_rank_of_every_latency_of_the_kind() -> None:
    """The 99th of 100 latencies: one slow request of 100 stays out of the p99, two do not."""
    one_slow = Counter({1000: 99, 9000: 1})
    two_slow = Counter({1000: 98, 5000: 1, 9000: 1})
    assert swap.quantile_us(one_slow, 0.99) == 1000
    assert swap.quantile_us(two_slow, 0.99) == 5000
    assert swap.latency_ms(two_slow) == {"p50_ms": 1.0, "p99_ms": 5.0, "max_ms": 9.0}


def test_wrk_histogram_line_is_read_whole() -> None:
    out = 'RESULT {"requests": 3}\nHISTOGRAM 812:2,1500:1\n'
    assert swap.read_histogram(out) == Counter({812: 2, 1500: 1})
    assert swap.read_histogram("RESULT {}\n") == Counter()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk: `make system-deps` installs it")
def test_short_run_interleaves_swap_and_steady_windows_and_pools_each_kind(
    tmp_path: Path,
) -> None:
    """The `alone` phase, one pod, 4 reloads over 2 rounds: the swap windows made every reload
    (each answered `applied`, or the bench fails), the steady windows none; both kinds served
    requests; the stall target is judged on this phase's reloads."""
    done = subprocess.run(
        [sys.executable, str(BENCH / "swap.py"), "--phases", "alone",
         "--swaps", "4", "--rounds", "2", "--rate", "4", "--results", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    [written] = tmp_path.glob("swap-*.json")
    result = json.loads(written.read_text())
    alone = result["figures"]["alone"]
    steady, swapping = alone["steady"], alone["swap"]
    assert alone["replicas"] == 1
    assert (steady["windows"], swapping["windows"]) == (2, 2)
    assert (steady["swaps"], swapping["swaps"]) == (0, 4)
    assert len(swapping["raw_reload_s"]) == 4
    assert steady["requests"] > 0 and swapping["requests"] > 0
    assert steady["failed"] == swapping["failed"] == 0
    assert 0 < steady["p50_ms"] <= steady["p99_ms"] <= steady["max_ms"]
    assert [r["p99_ratio"] > 0 for r in alone["rounds"]] == [True, True]
    ratios = re.search(r"p99 swap/steady by round: ([\d. ]+)", done.stdout)
    assert ratios is not None and len(ratios.group(1).split()) == 2, done.stdout
    [stall] = [v for k, v in result["targets"].items() if "loop stall" in k]
    assert stall["value"] == swapping["stall_max_s"]


def test_stall_is_judged_on_the_pod_alone_and_not_on_pods_sharing_a_core() -> None:
    """A pod alone judges the stall target on both sides of 5 ms; pods that share a core
    give no stall verdict however long their stall."""

    def phase(stall_s: float, replicas: int = 1) -> dict[str, object]:
        window = {"p99_ms": 2.0, "failed": 0, "stall_max_s": stall_s}
        return {"replicas": replicas, "steady": window, "swap": window}

    name = "alone: longest loop stall in a reload < 5 ms (one pod, its own core)"
    assert swap.verdicts({"alone": phase(0.0049)})[name] == (0.0049, True)
    assert swap.verdicts({"alone": phase(0.0051)})[name] == (0.0051, False)
    shared = swap.verdicts({"pods": phase(0.080, replicas=3)})
    assert not [key for key in shared if "stall" in key]
    assert shared["pods: no failed requests"] == (0, True)
