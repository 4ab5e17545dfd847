"""Chaos in the middle of a rollout, on the real control plane with the operator running:

- the API server and etcd restarted during a stepped rollout: nothing lost, history intact,
  the rollout completes, the pods never stop answering;
- one pod frozen (SIGSTOP: its admin port stops answering while its Pod stays Ready, as when
  the operator cannot reach it): the Canary names the pod and waits (no timeout: it holds the
  step), while the other pods keep serving; thawed (SIGCONT), the rollout completes;
- one pod killed while it loads the new version (it had the version's files open): restarted
  with the same addresses, it comes back serving the declared routing.

Each fault proves it landed: the servers' new pids, the process state `T`, the open files.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hotswap import resources
from hotswap.cluster import clusters, starting
from hotswap.local import replicas, tallies, traffic
from hotswap.local.declarations import Declared
from hotswap.store import layout, routes
from tests.integration.operator import flows, given
from tests.integration.operator.conftest import (
    MODEL,
    Operator,
    Volume,
    check_load,
    register_fresh,
)

FIRST_READY_SECONDS = 120  # the first routing of a session: three pods load at once
HOLD_SECONDS = 12.0  # how long a frozen pod is watched being waited for (> one signal timeout)
LOAD_PADDING = 64 * 1024 * 1024  # zero bytes after a model pickle: a load hashes them
PAUSED_STEPS = {
    "type": "Steps",
    "steps": [
        {"name": "twenty", "setWeight": 20},
        {"name": "hold", "pause": {}},
        {"name": "sixty", "setWeight": 60},
    ],
}
TIMED_STEPS = {
    "type": "Steps",
    "steps": [
        {"name": "twenty", "setWeight": 20},
        {"name": "breathe", "pause": {"durationSeconds": 3}},
        {"name": "sixty", "setWeight": 60},
    ],
}


def history_of(status: dict[str, Any]) -> list[tuple[str, str]]:
    return [(h["version"], h["outcome"]) for h in status["history"]]


def api_answers(cluster: flows.Cluster, name: str, *, timeout: float = 60) -> dict[str, Any]:
    """The Canary once the API server answers again (a pooled connection may fail first)."""

    def read() -> tuple[bool, Any]:
        try:
            return True, cluster.get(resources.CANARIES, name)
        except Exception as exc:  # ApiException 5xx, urllib3's ProtocolError, a reset socket
            return False, repr(exc)[:200]

    body: dict[str, Any] = flows.until(read, timeout=timeout, what="the API server answering")
    return body


def test_the_api_server_and_etcd_restarted_mid_rollout_lose_nothing(
    rollout: given.Rollout, fresh: str, control_plane: clusters.Cluster, operator: Operator
) -> None:
    rollout.create("v1", historyLimit=20)
    history = history_of(rollout.ready_on("v1", timeout=FIRST_READY_SECONDS))
    rollout.deploy(fresh, strategy=copy.deepcopy(PAUSED_STEPS))
    before = rollout.wait(
        "the open pause at 20%",
        lambda s: s.get("currentStep") == 1 and s.get("convergedPods") == 3 and given.paused_in(s),
    )
    objects = {
        plural: names_of(rollout, plural)
        for plural in (resources.MODEL_VERSIONS, resources.CANARIES)
    }
    servers = {name: control_plane.processes[name].pid for name in ("etcd", "kube-apiserver")}

    starting.restart_etcd(control_plane)
    starting.restart_apiserver(control_plane)

    restarted = {name: control_plane.processes[name].pid for name in servers}
    assert all(restarted[n] != servers[n] for n in servers), f"{servers} -> {restarted}"
    after = api_answers(rollout.cluster, rollout.name)["status"]
    kept = ("stableVersion", "canaryVersion", "weight", "currentStep", "history", "stepStartedAt")
    assert {k: after.get(k) for k in kept} == {k: before.get(k) for k in kept}, (
        f"status changed across the restart: before {before}, after {after}"
    )
    assert {p: names_of(rollout, p) for p in objects} == objects, "objects lost in the restart"
    assert operator.running, "the operator died with the API server"

    rollout.annotate(resources.PROMOTE_ANNOTATION)
    status = rollout.ready_on(fresh, timeout=90)
    assert history_of(status) == [(rollout.mv(fresh), "Promoted"), *history], status["history"]
    rollout.expect_pods_serve(fresh)


def names_of(rollout: given.Rollout, plural: str) -> set[str]:
    return {item["metadata"]["name"] for item in rollout.cluster.list_objects(plural)}


@pytest.fixture
def quiet_rollout(
    cluster: flows.Cluster, registered: Volume, pods: list[replicas.Replica], operator: Operator
) -> Iterator[given.Rollout]:
    """A Canary of the test model serving v1, without the fixture's load loop (a test sends its
    own, to the pods it does not harm); every pod running and answering again afterwards."""
    found = given.Rollout(cluster, registered, pods)
    try:
        found.create("v1")
        found.ready_on("v1", timeout=FIRST_READY_SECONDS)
        yield found
    finally:
        for pod in pods:
            if pod.process.poll() is None:
                replicas.thaw(pod)
            else:
                replicas.restart_replica(pod)
                replicas.wait_listening(pod)
        cluster.delete(resources.CANARIES, found.name)


def load_on(pods: list[replicas.Replica], registered: Volume) -> traffic.LiveTraffic:
    targets = tuple(pod.target for pod in pods)
    load = traffic.Load(targets, 100_000, 300.0, threads=4, pause=0.02)
    return traffic.LiveTraffic(load, declared=Declared(layout.ModelPaths(registered.root, MODEL)))


def expect_served(seen: tallies.Tally, *, versions: set[str]) -> None:
    check_load(seen)
    assert seen.answered > 0, "the healthy pods answered nothing"
    assert set(seen.by_version()) <= versions, f"answers from {dict(seen.by_version())}"


def test_a_pod_whose_admin_port_stops_answering_is_named_and_waited_for(
    quiet_rollout: given.Rollout, fresh: str, registered: Volume
) -> None:
    rollout, (healthy, frozen) = quiet_rollout, (quiet_rollout.pods[:2], quiet_rollout.pods[2])
    rollout.deploy(fresh, strategy=copy.deepcopy(TIMED_STEPS))
    rollout.wait("the timed pause at 20%", lambda s: s.get("currentStep") == 1)
    with load_on(healthy, registered) as live:
        replicas.freeze(frozen)
        flows.until(
            lambda: ((state := replicas.state_of(frozen)) == "T", state),
            timeout=5,
            what=f"{frozen.name} stopped (process state T)",
            every=0.01,
        )
        with pytest.raises(OSError):  # URLError or a timeout: the admin port does not answer
            frozen.admin_status(timeout=1.0)
        waiting = rollout.wait(
            f"the Canary waiting for {frozen.name} at 20%",
            lambda s: s.get("weight") == 20 and frozen.name in progressing_message(s),
        )
        expect_held(rollout, frozen, seconds=HOLD_SECONDS)
        replicas.thaw(frozen)
        status = rollout.ready_on(fresh, timeout=90)
    message = progressing_message(waiting)
    assert "unreachable" in message and f"2/{len(rollout.pods)}" in message, message
    expect_served(live.snapshot(), versions={rollout.version_id(v) for v in ("v1", fresh)})
    assert status["convergedPods"] == len(rollout.pods), status
    rollout.expect_pods_serve(fresh)


def progressing_message(status: dict[str, Any]) -> str:
    return str(flows.condition({"status": status}, "Progressing").get("message", ""))


def expect_held(rollout: given.Rollout, frozen: replicas.Replica, *, seconds: float) -> None:
    """For `seconds` (each look waits out the frozen pod's signal timeout), the rollout stays
    in its timed pause at 20% (long past its 3 s: a step ends only once every ready pod
    reports the routing), naming the frozen pod in its status."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = rollout.cluster.get(resources.CANARIES, rollout.name)["status"]
        where = (status.get("stableVersion"), status.get("weight"), status.get("currentStep"))
        assert where == (rollout.mv("v1"), 20, 1), f"moved on without {frozen.name}: {status}"
        errors = {p["name"]: p.get("error") for p in status.get("pods") or []}
        assert errors.get(frozen.name), f"{frozen.name} not reported with an error: {errors}"
        time.sleep(1.0)


def test_a_pod_killed_while_loading_comes_back_serving_the_declared_routing(
    quiet_rollout: given.Rollout, cluster: flows.Cluster, registered: Volume
) -> None:
    """The version's model is padded (64 MiB of zeros after its pickle) so a load keeps it open
    for a while: a text model alone is read in a few ms, and a 2 ms poll of the pod's open files
    missed that window in a CI run."""
    fresh = register_fresh(cluster, registered, padding=LOAD_PADDING)
    rollout, (healthy, victim) = quiet_rollout, (quiet_rollout.pods[:2], quiet_rollout.pods[2])
    folder = str(registered.folder(fresh))
    with load_on(healthy, registered) as live:
        rollout.deploy(fresh)
        loading = flows.until(
            lambda: ((found := opened_in(victim, folder)) != [], found),
            timeout=30,
            every=0.002,
            what=f"{victim.name} opening a file of {fresh} (loading it)",
        )
        victim.process.kill()
        assert victim.process.wait(timeout=10) < 0, "the pod was not killed"
        replicas.restart_replica(victim)
        replicas.wait_listening(victim)
        rollout.ready_on(fresh, timeout=90)
    print(f"\n{victim.name} killed with {loading} open")
    expect_served(live.snapshot(), versions={rollout.version_id(v) for v in ("v1", fresh)})
    declared = routes.read_routing(layout.ModelPaths(registered.root, MODEL))
    report = victim.admin_status()
    assert declared is not None and report["generation"] == declared.generation, report
    assert report["stable"]["version"] == rollout.version_id(fresh), report
    rollout.expect_pods_serve(fresh)
    rollout.expect_answers_from(fresh)


def opened_in(replica: replicas.Replica, folder: str) -> list[str]:
    try:
        return [path for path in replicas.open_files(replica) if path.startswith(folder)]
    except OSError:  # the process went away
        return []
