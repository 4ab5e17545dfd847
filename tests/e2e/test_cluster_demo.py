"""`hotswap demo` as a newcomer runs it: the whole loop on the local control plane.

What the user sees: exit 0; a progress line for each event (control plane, RBAC, operator,
replicas as pods, both versions trained and verified, each step's weight, the pause, promote,
rollback, then a worse version rolled back and a better one promoted by the analysis on their
own); requests per version and arm at each stage; 0 failed requests; and afterwards
nothing of it runs: no process it started, no port it printed still open; the same after
Ctrl-C in the middle of it.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

VERSION = r"\d{8}_\d{6}_[0-9a-f]{8}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    workdir = tmp_path_factory.mktemp("cluster-demo")
    result = subprocess.run(
        [sys.executable, "-m", "hotswap", "demo", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, (
        f"demo exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
    return workdir, result.stdout


def stage_rows(output: str, title: str) -> dict[tuple[str, str], float]:
    """The `version arm count percent` rows printed under the stage line containing `title`."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if title in line and "answers" in line)
    rows = {}
    for line in lines[start + 1 :]:
        match = re.match(rf"^\s+({VERSION})\s+(\w+)\s+(\d+)\s+([\d.]+)%$", line)
        if not match:
            break
        rows[(match[1], match[2])] = float(match[4])
    return rows


def test_each_event_has_a_progress_line(demo: tuple[Path, str]) -> None:
    _, output = demo
    expected = [
        r"control plane up at https://127\.0\.0\.1:\d+ .*CRDs applied",
        r"namespace hotswap-demo: ServiceAccount, Role and RoleBinding of manifests/rbac",
        r"operator started .* as system:serviceaccount:hotswap-demo:hotswap-operator",
        *(rf"inference-{i} on 127\.0\.0\.{10 + i}: .*registered as a Ready pod" for i in range(3)),
        rf"trained {VERSION}",
        r"ModelVersion intent-\S+ created; the operator verified its digest",
        r"Canary intent: Ready=True Converged: \S+ serves on 3/3 pods",
        r"Canary intent: Progressing=True Stepping: step 1/5 'ten': \S+ answers 10%",
        r"Canary intent: Progressing=True Paused: step 2/5 'soak': paused at 10% until",
        r"Canary intent: Progressing=True Stepping: step 3/5 'half': \S+ answers 50%",
        r"Canary intent: Progressing=True Paused: step 4/5 'approve': paused at 50% until promoted",
        r"\$ hotswap promote intent: ",
        r"Canary intent: Progressing=True Stepping: step 5/5 'all': \S+ answers 100%",
        r"Canary intent: Progressing=True Promoting: every step passed",
        # an instant rollback is one status write, once every pod answered (reconciling.may_wait)
        r"\$ hotswap rollback intent: .*\n.*Canary intent: Progressing=False RolloutComplete: ",
        r"rolled back: Rollback \S+ -> \S+, no steps",
        rf"trained {VERSION} \(accuracy [\d.]+, 50% of its training labels wrong\)",
        r"Canary intent: analysis Inconclusive: errorRate ",
        r"Canary intent: Degraded=True AnalysisFailed: analysis failed: reward Fail: ",
        r"rolled back on its own: reward Fail: canary [\d.]+ vs stable [\d.]+",
        r"Canary intent: Progressing=True Analysing: step 2/4 'check-twenty'",
        r"Canary intent: Progressing=True Promoting: every step passed",
        r"promoted on its own: every tested metric passed",
        r"operator stopped",
        r"stopped 3 replicas and removed their pods",
        r"control plane down \(kube-apiserver, etcd stopped\)",
    ]
    missing = [line for line in expected if not re.search(line, output)]
    assert not missing, f"expected progress lines {missing}; the demo printed:\n{output}"


def test_requests_per_version_follow_each_stage(demo: tuple[Path, str]) -> None:
    _, output = demo
    v1, v2, _worse, better = re.findall(rf"trained ({VERSION})", output)
    stages = {
        f"stable {v1}": {(v1, "stable")},
        "canary at 10%": {(v1, "stable"), (v2, "canary")},
        "canary at 50%": {(v1, "stable"), (v2, "canary")},
        f"promoted: stable {v2}": {(v2, "stable")},
        f"rolled back: stable {v1}": {(v1, "stable")},
        "after the automatic rollback": {(v1, "stable")},
        f"promoted: stable {better}": {(better, "stable")},
    }
    for title, expected in stages.items():
        seen = stage_rows(output, title)
        assert set(seen) == expected, f"{title}: expected answers from {expected}, saw {seen}"
    ten, half = stage_rows(output, "canary at 10%"), stage_rows(output, "canary at 50%")
    assert 3.0 <= ten[(v2, "canary")] <= 20.0, f"canary share at 10%: {ten}"
    assert 35.0 <= half[(v2, "canary")] <= 65.0, f"canary share at 50%: {half}"


def test_no_request_failed(demo: tuple[Path, str]) -> None:
    _, output = demo
    totals = re.search(r"all traffic: (\d+) requests, (\d+) failed, (\d+) undeclared", output)
    assert totals, f"expected the all-traffic line; the demo printed:\n{output}"
    assert int(totals[1]) > 0, totals[0]
    assert (totals[2], totals[3]) == ("0", "0"), totals[0]


def test_everything_is_stopped_afterwards(demo: tuple[Path, str]) -> None:
    workdir, output = demo
    left = [pid for pid, text in processes() if str(workdir) in text]
    assert left == [], f"expected no process of {workdir} left, found pids {left}"
    open_ports = [p for p in printed_ports(output) if listening(*p)]
    assert open_ports == [], f"expected every printed port closed, still open: {open_ports}"


def test_ctrl_c_stops_everything_it_started(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "hotswap", "demo", "--workdir", str(tmp_path)]
    demo = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    assert demo.stdout is not None
    for line in demo.stdout:  # bounded by the demo itself and pytest's timeout
        seen.append(line)
        if "live traffic" in line:
            demo.send_signal(signal.SIGINT)
            break
    out, _ = demo.communicate(timeout=120)
    output = "".join(seen) + out
    assert demo.returncode == 130, (
        f"expected exit 130 after Ctrl-C, got {demo.returncode}:\n{output}"
    )
    for line in (
        "operator stopped",
        "stopped 3 replicas",
        "control plane down",
        "interrupted; everything it started is stopped",
    ):
        assert line in output, f"expected {line!r} after Ctrl-C; the demo printed:\n{output}"
    left = [pid for pid, text in processes() if str(tmp_path) in text]
    assert left == [], f"expected no process of {tmp_path} left, found pids {left}"


def processes() -> list[tuple[int, str]]:
    """(pid, command line and environment) of every process this user can read."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            text = b" ".join((proc / n).read_bytes() for n in ("cmdline", "environ"))
        except OSError:
            continue
        found.append((int(proc.name), text.replace(b"\0", b" ").decode(errors="replace")))
    return found


def printed_ports(output: str) -> list[tuple[str, int]]:
    found = [(host, int(port)) for host, port in re.findall(r"(127\.0\.0\.\d+):(\d+)", output)]
    for host, ports in re.findall(r"on (127\.0\.0\.\d+): serving (.*); registered", output):
        found += [(host, int(port)) for port in re.findall(r":(\d+)", ports)]
    assert len(found) >= 11, f"expected the apiserver, operator and 9 replica ports: {found}"
    return found


def listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
