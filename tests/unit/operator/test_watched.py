"""What the operator keeps from its pod and ModelVersion watches (cluster.listed_pod, selects,
Watched) and the wake a pod's change sends (Runtime.wake_selecting). Each refusal has a twin
that is accepted."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
from hotswap_operator import cluster, observing, reloading, runtimes, specs
from hotswap_operator.metrics import Metrics
from hotswap_operator.reloading import Pod, Reply
from hotswap_operator.runtimes import Config, Context
from prometheus_client import CollectorRegistry

from hotswap import resources
from hotswap.local import simulators

LABELS = {"app.kubernetes.io/name": "inference", "hotswap.dev/model": "intent"}
DEFAULT_PORT = 8001


def raw_pod(
    name: str = "inference-0",
    *,
    ready: str = "True",
    ip: str | None = "10.244.0.7",
    deleting: bool = False,
    port: str | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(LABELS if labels is None else labels)}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-02T05:00:00Z"
    if port is not None:
        meta["annotations"] = {resources.ADMIN_PORT_ANNOTATION: port}
    status: dict[str, Any] = {"conditions": [{"type": "Ready", "status": ready}]}
    if ip is not None:
        status["podIP"] = ip
    return {"metadata": meta, "status": status}


def test_a_ready_pod_is_listed_with_its_labels_and_admin_address() -> None:
    listed = cluster.listed_pod(raw_pod(), DEFAULT_PORT)
    assert listed == cluster.ListedPod(LABELS, Pod("inference-0", "10.244.0.7", DEFAULT_PORT))
    annotated = cluster.listed_pod(raw_pod(port="9001"), DEFAULT_PORT)
    assert annotated is not None and annotated.pod.admin_port == 9001
    garbled = cluster.listed_pod(raw_pod(port="nine"), DEFAULT_PORT)
    assert garbled is not None and garbled.pod.admin_port == DEFAULT_PORT


@pytest.mark.parametrize(
    "raw",
    [raw_pod(ready="False"), raw_pod(ip=None), raw_pod(deleting=True), {"metadata": {"name": "x"}}],
    ids=["not-ready", "no-ip", "deleting", "no-status"],
)
def test_a_pod_that_cannot_be_signalled_is_not_listed(raw: dict[str, Any]) -> None:
    assert cluster.listed_pod(raw, DEFAULT_PORT) is None


def test_a_selector_matches_a_superset_of_its_labels_only() -> None:
    assert cluster.selects(LABELS, LABELS | {"pod-template-hash": "abc"})
    assert not cluster.selects(LABELS, {"app.kubernetes.io/name": "inference"})
    assert not cluster.selects(LABELS, LABELS | {"hotswap.dev/model": "other"})
    assert not cluster.selects({}, LABELS), "an empty selector selects nothing"


class Custom:
    """The one API call Watched may make (a ModelVersion GET), counted."""

    def __init__(self, stored: dict[str, Any]) -> None:
        self.stored, self.gets = stored, 0

    def get_namespaced_custom_object(self, *args: Any) -> dict[str, Any]:
        self.gets += 1
        return self.stored


def watched(custom: Custom | None = None) -> cluster.Watched:
    pods = {
        "ns": [
            cluster.listed_pod(raw_pod("inference-1", ip="10.0.0.2"), DEFAULT_PORT),
            cluster.listed_pod(raw_pod("inference-0", ip="10.0.0.1"), DEFAULT_PORT),
            cluster.listed_pod(raw_pod("other-0", labels={"app": "other"}), DEFAULT_PORT),
        ],
        "elsewhere": [cluster.listed_pod(raw_pod("inference-9"), DEFAULT_PORT)],
    }
    indexed = {("ns", "intent-v1"): [{"metadata": {"name": "intent-v1"}, "status": "indexed"}]}
    apis = cluster.Apis(core=None, custom=custom)
    return cluster.Watched(apis, pods=pods, model_versions=indexed)  # type: ignore[arg-type]


def test_ready_pods_are_the_selected_ones_of_the_namespace_by_name() -> None:
    found = watched().ready_pods("ns", LABELS)
    assert [pod.name for pod in found] == ["inference-0", "inference-1"]
    assert watched().ready_pods("empty", LABELS) == []


def test_a_model_version_is_read_from_the_api_only_when_the_watch_copy_is_not_fresh() -> None:
    custom = Custom({"metadata": {"name": "intent-v1"}, "status": "from the API"})
    reads = watched(custom)
    found = reads.model_version("ns", "intent-v1", fresh=lambda body: True)
    assert (found or {}).get("status") == "indexed" and custom.gets == 0
    found = reads.model_version("ns", "intent-v1", fresh=lambda body: False)
    assert (found or {}).get("status") == "from the API" and custom.gets == 1
    found = reads.model_version("ns", "not-watched-yet", fresh=lambda body: True)
    assert (found or {}).get("status") == "from the API" and custom.gets == 2


class Changing:
    """A read that finds its store changed by the event loop `times` times, then answers."""

    def __init__(self, times: int) -> None:
        self.times, self.calls = times, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.times:
            raise RuntimeError("dictionary changed size during iteration")
        return "read"


def test_an_index_read_the_loop_changed_meanwhile_is_read_again_a_bounded_number_of_times() -> None:
    settles = Changing(cluster.INDEX_READ_ATTEMPTS - 1)
    assert cluster.consistent(settles) == "read"
    assert settles.calls == cluster.INDEX_READ_ATTEMPTS
    never = Changing(cluster.INDEX_READ_ATTEMPTS)
    with pytest.raises(RuntimeError, match="changed size"):
        cluster.consistent(never)
    assert never.calls == cluster.INDEX_READ_ATTEMPTS


def test_a_pod_change_wakes_only_the_canaries_selecting_it() -> None:
    apis: Any = None
    runtime = runtimes.Runtime(Config(model_root=Path("/x")), apis, Metrics(CollectorRegistry()))
    runtime.select("mine", "ns", LABELS)
    runtime.select("same-labels-other-namespace", "other", LABELS)
    runtime.select("other-model", "ns", LABELS | {"hotswap.dev/model": "other"})
    runtime.wake_selecting("ns", LABELS | {"pod-template-hash": "abc"})
    woken = {uid for uid, waker in runtime.wakers.items() if waker.is_set()}
    assert woken == {"mine"}
    runtime.forget("mine")
    runtime.wake_selecting("ns", LABELS)
    assert "mine" not in runtime.wakers, "a deleted Canary is not woken (nor remembered)"


def pass_context(pods: list[dict[str, Any]], config: Config | None = None) -> Context:
    listed = [cluster.listed_pod(raw, DEFAULT_PORT) for raw in pods]
    reads = cluster.Watched(cluster.Apis(core=None, custom=None), pods={"ns": listed},
                            model_versions={})  # type: ignore[arg-type]  # fmt: skip
    metrics = Metrics(CollectorRegistry())
    config = config or Config(model_root=Path("/x"), signal_timeout=2.0)
    return Context(None, config, metrics, "ns", "intent", reads)  # type: ignore[arg-type]


def reported(pod: Pod, *, code: int = 200) -> Reply:
    report = simulators.SimulatedPod(pod.name, "intent", pod.ip).report().to_dict()
    return Reply(pod, code, report if code == 200 else {})


def test_a_later_pass_asks_only_the_pods_without_a_report_in_this_reconcile() -> None:
    """Nothing listens on 127.0.0.1:1, so a pod asked again answers code 0: the reused reply is
    the one handed in (the same object), every other pod is asked."""
    raws = [raw_pod(f"inference-{i}", ip="127.0.0.1", port="1") for i in range(4)]
    ctx = pass_context(raws)
    pods = [Pod(f"inference-{i}", "127.0.0.1", 1) for i in range(4)]
    answered = reported(pods[0])
    known = {
        "inference-0": answered,  # a well-formed report: reused
        "inference-1": reported(pods[1], code=0),  # it did not answer: asked again
        "inference-2": reported(Pod("inference-2", "127.0.0.9", 1)),  # replaced (new IP): asked
    }  # inference-3: appeared since: asked
    spec = specs.CanarySpec(model="intent", version="v", selector=specs.Selector(LABELS))
    replies = observing.read_pods(ctx, spec, known)
    assert [reply.pod.name for reply in replies] == [pod.name for pod in pods]
    assert replies[0] is answered
    assert [reply.code for reply in replies[1:]] == [0, 0, 0], replies[1:]
    assert all(reply.pod == pod for reply, pod in zip(replies, pods, strict=True))


def test_a_pod_that_never_answers_holds_a_status_read_for_its_own_shorter_timeout() -> None:
    """A pod frozen while Ready (its kernel accepts the connection, nothing answers): a status
    read gives up after HOTSWAP_OPERATOR_STATUS_TIMEOUT, a reload after the longer
    HOTSWAP_OPERATOR_SIGNAL_TIMEOUT (a pod may load a model meanwhile), so a frozen pod holds a
    reconcile thread for the short one on every look."""
    with socket.socket() as frozen:
        frozen.bind(("127.0.0.1", 0))
        frozen.listen(8)  # never accepted: the connection opens, no byte comes back
        port = frozen.getsockname()[1]
        config = Config(model_root=Path("/x"), signal_timeout=1.5, status_timeout=0.3)
        ctx = pass_context([raw_pod(ip="127.0.0.1", port=str(port))], config)
        spec = specs.CanarySpec(model="intent", version="v", selector=specs.Selector(LABELS))
        started = time.monotonic()
        (status,) = observing.read_pods(ctx, spec, {})
        read_seconds = time.monotonic() - started
        started = time.monotonic()
        (reload,) = reloading.reload_pods([status.pod], {}, token=None, timeout=1.5)
        reload_seconds = time.monotonic() - started
    assert status.code == 0 and status.error and "timed out" in status.error, status
    assert reload.code == 0 and reload.error, reload
    assert 0.3 <= read_seconds < 1.2, f"the status read waited {read_seconds:.2f} s"
    assert reload_seconds >= 1.5, f"the reload gave up after {reload_seconds:.2f} s"
