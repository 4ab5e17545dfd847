"""`hotswap dev up | down`: the playground (`playgrounds`) as one detached process, started in
its own session so it outlives the command, and stopped exactly: a recorded pid is signalled only
while it is still the process started (`hotswap.cluster.supervising`).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from hotswap.cluster import clusters, stopping, supervising, waiting
from hotswap.local import playgrounds

STOP_SECONDS = 90.0  # the replicas, the operator and the control plane, in turn


class StartError(Exception):
    """The playground did not come up; the message ends with the tail of its log."""


def up(workdir: Path, *, replicas: int, timeout: float) -> tuple[playgrounds.Playground, bool]:
    """Start the detached process (unless one runs) and wait until it is ready.

    Returns the playground and whether it was started now."""
    workdir = workdir.resolve()
    running = supervisor(workdir)
    fresh = running is None
    if running is None:
        stop_leftovers(workdir)
        running = spawn(workdir, replicas)
    return wait_ready(workdir, running, timeout=timeout), fresh


def spawn(workdir: Path, replicas: int) -> clusters.Process:
    workdir.mkdir(parents=True, exist_ok=True)
    playgrounds.state_file(workdir).unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        playgrounds.__name__,
        f"--workdir={workdir}",
        f"--replicas={replicas}",
    ]
    process = supervising.spawn("playground", argv, port=0, log_dir=workdir / "logs")
    playgrounds.write_json(playgrounds.supervisor_file(workdir), asdict(process))
    return process


def supervisor(workdir: Path) -> clusters.Process | None:
    """The detached process of `workdir` while it still runs, else None."""
    try:
        process = clusters.Process(**json.loads(playgrounds.supervisor_file(workdir).read_text()))
    except FileNotFoundError:
        return None
    return process if supervising.is_alive(process) else None


def wait_ready(
    workdir: Path, process: clusters.Process, *, timeout: float
) -> playgrounds.Playground:
    deadline = time.monotonic() + timeout
    log = workdir / "logs" / "playground.log"
    while (found := playgrounds.load(workdir)) is None:
        if not supervising.is_alive(process):
            raise StartError(f"the playground exited while starting:\n{waiting.tail(log)}")
        if time.monotonic() > deadline:
            raise StartError(
                f"the playground is not ready after {timeout:.0f}s:\n{waiting.tail(log)}"
            )
        time.sleep(0.5)
    return found


def down(workdir: Path) -> list[str]:
    """Stop the detached process (it stops all it started), then anything it left; idempotent."""
    workdir = workdir.resolve()
    stopped = []
    running = supervisor(workdir)
    if running is not None:
        supervising.stop(running, timeout=STOP_SECONDS)
        stopped.append("playground")
    stopped += stop_leftovers(workdir)
    for path in (playgrounds.supervisor_file(workdir), playgrounds.state_file(workdir)):
        path.unlink(missing_ok=True)
    return stopped


def stop_leftovers(workdir: Path) -> list[str]:
    """What a killed playground process could not stop: replicas, operator, control plane."""
    found = playgrounds.load(workdir)
    stopped = []
    for process in found.processes if found else []:
        if supervising.is_alive(process):
            supervising.stop(process)
            stopped.append(process.name)
    return stopped + stopping.down(workdir / "cluster", keep_logs=True)
