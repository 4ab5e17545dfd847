"""The state folder of one local control plane: where each file lives and what was started.

```
<state>/
  pki/         ca, apiserver serving cert, admin client cert, service-account keys
  etcd/        etcd data
  logs/        etcd.log, kube-apiserver.log
  kubeconfig   admin (system:masters) client-certificate kubeconfig
  state.json   the processes started (pid, start time, port) and their command lines
```
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_NAME = "hotswap"


def cache_root() -> Path:
    return Path(os.environ.get("HOTSWAP_CACHE") or Path.home() / ".cache" / "hotswap")


def state_dir_for(name: str) -> Path:
    return cache_root() / "clusters" / name


@dataclass(frozen=True)
class Process:
    """One server this code started; `started` is its start time in clock ticks since boot."""

    name: str
    pid: int
    started: int
    port: int
    argv: list[str]


@dataclass
class Cluster:
    state_dir: Path
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def pki(self) -> Path:
        return self.state_dir / "pki"

    @property
    def etcd_data(self) -> Path:
        return self.state_dir / "etcd"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.processes['kube-apiserver'].port}"

    def record(self, process: Process) -> None:
        self.processes[process.name] = process
        save(self)


def save(cluster: Cluster) -> None:
    data = {name: asdict(process) for name, process in cluster.processes.items()}
    temp = cluster.state_file.with_suffix(".tmp")
    temp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(temp, cluster.state_file)


def load(state_dir: Path) -> Cluster:
    cluster = Cluster(state_dir)
    if cluster.state_file.exists():
        data = json.loads(cluster.state_file.read_text())
        cluster.processes = {name: Process(**fields) for name, fields in data.items()}
    return cluster
