"""`hotswap demo --no-cluster` as a newcomer runs it: the data-plane loop, under live traffic,
with no failure."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def run_demo(workdir: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "hotswap", "demo", "--no-cluster", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (
        f"demo exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


def phase_rows(output: str, title: str) -> dict[tuple[str, str], float]:
    """The `version arm count percent` rows printed under the phase line starting `title`."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if title in line and "answers" in line)
    rows = {}
    for line in lines[start + 1 :]:
        match = re.match(r"^\s+(\d{8}_\d{6}_[0-9a-f]{8})\s+(\w+)\s+(\d+)\s+([\d.]+)%$", line)
        if not match:
            break
        rows[(match[1], match[2])] = float(match[4])
    return rows


def test_demo_runs_the_loop_without_a_failed_request(tmp_path: Path) -> None:
    output = run_demo(tmp_path)

    trained = re.findall(r"trained (\d{8}_\d{6}_[0-9a-f]{8})", output)
    assert len(trained) == 2, f"expected two trained versions, output:\n{output}"
    v1, v2 = trained
    canary = phase_rows(output, "canary (sticky)")
    assert set(canary) == {(v1, "stable"), (v2, "canary")}, canary
    assert 10.0 <= canary[(v2, "canary")] <= 30.0, f"canary share {canary} is far from 20%"
    assert set(phase_rows(output, "promote")) == {(v2, "stable")}
    assert set(phase_rows(output, "roll back")) == {(v1, "stable")}
    assert re.search(r"all traffic: \d+ requests, 0 failed", output), output
    assert "stopped 2 replicas" in output
    assert list((tmp_path / "models" / "intent" / "versions").iterdir()), "no versions published"
