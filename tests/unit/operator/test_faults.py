"""Fault points: off unless HOTSWAP_FAULT names one; when reached, a marker line, then SIGKILL.

Each case runs `faults.reach` in a child Python process (a SIGKILL would end the test run) that
prints "alive" if it survived."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hotswap_operator import faults

SCRIPT = """
import sys
from hotswap_operator import faults
faults.reach(sys.argv[1], done=int(sys.argv[2]), of=3)
print("alive")
"""


def reach(point: str, *, done: int = 1, armed: str | None, marker: Path) -> tuple[int, str]:
    env = {"PATH": "", faults.FAULT_MARKER: str(marker)}
    if armed is not None:
        env[faults.FAULT] = armed
    argv = [sys.executable, "-c", SCRIPT, point, str(done)]
    finished = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    return finished.returncode, finished.stdout.strip() or finished.stderr.strip()[-300:]


def lines(marker: Path) -> list[dict[str, object]]:
    if not marker.exists():
        return []
    return [json.loads(line) for line in marker.read_text().splitlines()]


@pytest.mark.parametrize("point", faults.POINTS)
def test_the_named_point_leaves_a_marker_then_kills(point: str, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    code, _ = reach(point, armed=point, marker=marker)
    assert code == -signal.SIGKILL, f"expected SIGKILL at {point}, exit code {code}"
    (line,) = lines(marker)
    assert line["point"] == point and isinstance(line["pid"], int), line
    assert line["detail"] == {"done": 1, "of": 3}, line


@pytest.mark.parametrize("armed", [None, "", faults.STATUS_WRITTEN])
def test_other_points_and_no_setting_do_nothing(armed: str | None, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    assert reach(faults.ROUTING_WRITTEN, armed=armed, marker=marker) == (0, "alive")
    assert lines(marker) == []


def test_a_count_kills_at_the_kth_pod_only(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    armed = f"{faults.PODS_SIGNALLED}:2"
    assert reach(faults.PODS_SIGNALLED, done=1, armed=armed, marker=marker) == (0, "alive")
    code, _ = reach(faults.PODS_SIGNALLED, done=2, armed=armed, marker=marker)
    assert code == -signal.SIGKILL, f"expected SIGKILL once 2 pods answered, exit code {code}"
    assert [line["detail"] for line in lines(marker)] == [{"done": 2, "of": 3}]


def test_an_unknown_point_is_refused_by_name(tmp_path: Path) -> None:
    code, output = reach(faults.ROUTING_WRITTEN, armed="after-everything", marker=tmp_path / "m")
    assert code == 1 and "HOTSWAP_FAULT='after-everything' names no fault point" in output, output


def reach_by_file(content: str | None, tmp_path: Path) -> tuple[int, str]:
    """`faults.reach(after-status-written)` with HOTSWAP_FAULT_FILE holding `content`."""
    armed = tmp_path / "fault"
    if content is not None:
        armed.write_text(content)
    env = {"PATH": "", faults.FAULT_FILE: str(armed), faults.FAULT_MARKER: str(tmp_path / "m")}
    argv = [sys.executable, "-c", SCRIPT, faults.STATUS_WRITTEN, "1"]
    finished = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    return finished.returncode, finished.stdout.strip()


def test_a_fault_file_naming_the_point_kills(tmp_path: Path) -> None:
    code, _ = reach_by_file(f"{faults.STATUS_WRITTEN}\n", tmp_path)
    assert code == -signal.SIGKILL, f"expected SIGKILL, exit code {code}"
    assert [line["point"] for line in lines(tmp_path / "m")] == [faults.STATUS_WRITTEN]


@pytest.mark.parametrize("content", [None, "", "\n", faults.ROUTING_WRITTEN])
def test_a_fault_file_absent_empty_or_naming_another_point_does_nothing(
    content: str | None, tmp_path: Path
) -> None:
    assert reach_by_file(content, tmp_path) == (0, "alive")
