"""A real Prometheus server (Debian's `prometheus`) for one test: loopback, temporary storage.

`running(...)` writes a config that scrapes the given targets every second under the job names
the rules and the dashboard expect, loads the alert rules, starts the server on a free port of
127.0.0.1, waits until it is ready, and kills it (and removes its storage) at the end.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotswap.local import replicas

PROMETHEUS = "/usr/bin/prometheus"
INFERENCE_JOB, OPERATOR_JOB = "hotswap-inference", "hotswap-operator"


@dataclass(frozen=True)
class Prometheus:
    url: str
    log: Path

    def get(self, path: str, **params: str) -> dict[str, Any]:
        """GET /api/v1/<path>: the JSON body, an error's too (a bad query answers 400)."""
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                body: dict[str, Any] = json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            with exc:  # closes the error's socket
                body = json.loads(exc.read() or b"{}")
        return body

    def api(self, path: str, **params: str) -> Any:
        """The `data` of a success, else an AssertionError naming Prometheus' error."""
        body = self.get(path, **params)
        assert body.get("status") == "success", f"{path} {params}: expected success, got {body}"
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector (or an AssertionError with Prometheus' error)."""
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", f"{expr}: expected a vector, got {data}"
        result: list[dict[str, Any]] = data["result"]
        return result

    def wait_for(
        self, expr: str, accept: Callable[[list[dict[str, Any]]], bool], *, timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """Query until `accept(result)`; the last result either way (callers assert on it)."""
        deadline = time.monotonic() + timeout
        result = self.query(expr)
        while not accept(result) and time.monotonic() < deadline:
            time.sleep(0.5)
            result = self.query(expr)
        return result


def write_config(folder: Path, *, jobs: dict[str, list[str]], rules: Path) -> Path:
    """prometheus.yml (JSON is YAML): 1 s scrape and rule evaluation, targets by job name."""
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": targets}]}
            for job, targets in jobs.items()
        ],
    }
    path = folder / "prometheus.yml"
    path.write_text(json.dumps(config, indent=2))
    return path


def wait_ready(server: Prometheus, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"prometheus exited {process.returncode}: see {server.log}"
        ready = f"{server.url}/-/ready"
        with contextlib.suppress(OSError), urllib.request.urlopen(ready, timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"prometheus not ready after {timeout:.0f}s: see {server.log}")


@contextlib.contextmanager
def running(*, jobs: dict[str, list[str]], rules: Path, log: Path) -> Iterator[Prometheus]:
    """Prometheus scraping `jobs`; its log goes to `log`, its storage is removed at the end."""
    targets = [target for job in jobs.values() for target in job]
    assert all(t.startswith("127.0.0.1:") for t in targets), f"loopback targets only: {targets}"
    assert Path(PROMETHEUS).exists(), f"{PROMETHEUS} is missing: run `make system-deps`"
    with tempfile.TemporaryDirectory(prefix="hotswap-prometheus-") as scratch:
        folder = Path(scratch)
        port = replicas.free_port()
        command = [
            PROMETHEUS, f"--config.file={write_config(folder, jobs=jobs, rules=rules)}",
            f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
        ]  # fmt: skip
        server = Prometheus(f"http://127.0.0.1:{port}", log)
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_ready(server, process)
            yield server
        finally:
            process.kill()
            process.wait(timeout=30)
