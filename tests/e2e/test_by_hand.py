"""README's "Try the pieces by hand" block, run as written: one machine, no cluster.

The block is read from README.md at test time and run by bash from the repository root, with
the model volume in a temporary folder ($HOTSWAP_MODEL_ROOT), so the README cannot rot. Its
server listens on 127.0.0.1:8000, 8001 and 9189 (the defaults the README shows); everything the
block starts runs in its own session and is stopped at the end, even when the block fails.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEADING = "## Try the pieces by hand"
PORTS = (8000, 8001, 9189)
SECONDS = 480
VERSION = r"\d{8}_\d{6}_[0-9a-f]{8}"


def by_hand_block(readme: Path = REPO / "README.md") -> str:
    """The first ```sh block under the heading, as written."""
    text = readme.read_text()
    section = text[text.index(HEADING) :]
    found = re.search(r"^```sh\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    assert found, f"no ```sh block under {HEADING!r} in README.md"
    return found[1]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def run_block(script: str, models: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTSWAP_", "VIRTUAL_ENV"))}
    env |= {"HOTSWAP_MODEL_ROOT": str(models)}
    process = subprocess.Popen(
        ["bash", "-c", f"set -eo pipefail -x\n{script}"],
        cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = process.communicate(timeout=SECONDS)
    except subprocess.TimeoutExpired:
        stop_session(process)
        out, _ = process.communicate()
        pytest.fail(f"the README block did not finish in {SECONDS}s:\n{out}")
    finally:
        stop_session(process)
    return subprocess.CompletedProcess(process.args, process.returncode, out, "")


def stop_session(process: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL, to what the block left running in its session (`serve &`)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue


def test_the_block_is_found_and_drives_the_local_commands() -> None:
    block = by_hand_block()
    assert block.startswith("make setup"), block
    for command in ("local deploy", "local canary", "local promote", "local rollback", "serve"):
        assert f"hotswap {command}" in block, f"`hotswap {command}` is not in the block"


def test_readme_by_hand_block_runs_as_written(tmp_path: Path) -> None:
    busy = [port for port in PORTS if listening(port)]
    if busy:
        pytest.fail(f"ports {busy} of 127.0.0.1 are taken: the README's server needs {PORTS}")
    setup = subprocess.run(["make", "-q", "setup"], cwd=REPO, check=False)
    if setup.returncode != 0:
        pytest.fail("the virtualenv is older than pyproject.toml or requirements.lock: make setup")

    result = run_block(by_hand_block(), tmp_path / "models")

    out = result.stdout
    assert result.returncode == 0, f"the block failed ({result.returncode}):\n{out}"
    v1, v2 = re.findall(rf"trained intent version ({VERSION})", out)
    assert "localhost:8001: serves it" in out, out
    assert f'"model_version":"{v1}"' in out, f"no answer of {v1} before the canary:\n{out}"
    assert f"canary {v2} at 20%" in out, out
    sticky = re.search(r"(?i)^x-model-version: (\S+)", out, re.MULTILINE)
    assert sticky and sticky[1] in (v1, v2), f"the sticky request's version: {sticky}\n{out}"
    assert re.search(rf"declared generation \d+: stable {v2}$", out, re.MULTILINE), out
    row = next(line for line in out.splitlines() if line.startswith(f"intent   {v1}"))
    assert row.endswith("current,stable"), f"after the rollback {v1} serves: {row}"
    assert "hotswap_inference_requests_total{" in out, out
    assert not [port for port in PORTS if listening(port)], "the block left its server running"
