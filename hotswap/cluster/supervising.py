"""Start servers detached (they outlive `hotswap cluster up`) and stop exactly those.

A recorded pid is only signalled while it is still the process we started: same start time
(field 22 of /proc/<pid>/stat) and the same executable path on its command line. A pid reused
by an unrelated process is left alone."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from hotswap.cluster import clusters


def spawn(name: str, argv: list[str], *, port: int, log_dir: Path) -> clusters.Process:
    """Start `argv` in its own session, output to `<log_dir>/<name>.log`.

    posix_spawn rather than Popen: no Popen object to warn that a server outlives it."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = str(log_dir / f"{name}.log")
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    pid = os.posix_spawn(argv[0], argv, dict(os.environ), file_actions=actions, setsid=True)
    started = start_time(pid)
    assert started is not None, f"{name} (pid {pid}) vanished at once"
    process = clusters.Process(name=name, pid=pid, started=started, port=port, argv=argv)
    _wait_exec(process)
    return process


def _wait_exec(process: clusters.Process, timeout: float = 5.0) -> None:
    """posix_spawn returns while execve still sets up the new image, /proc/<pid>/cmdline empty."""
    deadline = time.monotonic() + timeout
    while not is_ours(process) and start_time(process.pid) == process.started:
        if time.monotonic() > deadline:
            return
        time.sleep(0.01)


def start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return int(stat.rsplit(")", 1)[1].split()[19])


def is_ours(process: clusters.Process) -> bool:
    if start_time(process.pid) != process.started:
        return False
    try:
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return cmdline[:1] == [process.argv[0].encode()]


def is_alive(process: clusters.Process) -> bool:
    if not is_ours(process):
        return False
    try:
        stat = Path(f"/proc/{process.pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def is_running(cluster: clusters.Cluster) -> bool:
    """Every recorded server is up (and still the process we started)."""
    return bool(cluster.processes) and all(map(is_alive, cluster.processes.values()))


def stop(process: clusters.Process, *, timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL after `timeout`; reaps the child if it is ours to reap."""
    if not is_ours(process):
        return
    os.kill(process.pid, signal.SIGTERM)
    if not _wait_gone(process, timeout):
        os.kill(process.pid, signal.SIGKILL)
        _wait_gone(process, 5.0)


def _wait_gone(process: clusters.Process, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(process.pid)
        if not is_alive(process):
            return True
        time.sleep(0.05)
    return False


def _reap(pid: int) -> None:
    # Not our child when an earlier `hotswap cluster up` started it: then init reaps it.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
