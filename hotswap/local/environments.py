"""A whole local Hotswap environment, stopped in reverse order even on Ctrl-C or failure:

the local control plane (built on first use) with the CRDs, a namespace with manifests/rbac,
the operator running as that RBAC identity, and inference replicas on 127.0.0.10+ registered
as pods by the test kubelet. Used by `hotswap demo` and `bench/switch.py`.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes import client, config

from hotswap.cluster import building, clusters, kubelets, starting, stopping
from hotswap.local import authorizing, objects, operators, registering, replicas
from hotswap.store.layout import ModelPaths

Say = Callable[[str], None]
FIRST_HOST = 10  # replicas listen on 127.0.0.10, .11, ...


@dataclass
class Environment:
    workdir: Path
    cluster: clusters.Cluster
    objects: objects.Namespace
    paths: ModelPaths
    kubelet: kubelets.Kubelet
    token: str
    say: Say
    operator: operators.Operator | None = None
    pods: list[replicas.Replica] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    def add_replicas(self, count: int, *, poll_interval: float = 0.5) -> list[replicas.Replica]:
        """`count` more replicas, each registered as a pod once its admin port listens."""
        first = len(self.pods)
        added = [self._spawn(first + i, poll_interval) for i in range(count)]
        self.pods.extend(added)
        for pod in added:
            replicas.wait_listening(pod)
            registering.register_replica(self.kubelet, pod, labels=self.labels)
            self.say(f"{pod.name} on {pod.host}: serving :{pod.port}, admin :{pod.admin_port}, "
                     f"metrics :{pod.metrics_port}; registered as a Ready pod")  # fmt: skip
        return added

    @property
    def labels(self) -> dict[str, str]:
        return registering.labels_for(self.paths.model)

    def _spawn(self, index: int, poll_interval: float) -> replicas.Replica:
        host = f"127.0.0.{FIRST_HOST + index}"
        return replicas.spawn_replica(
            self.paths.root, self.paths.model, name=f"inference-{index}", token=self.token,
            log_dir=self.logs, host=host, poll_interval=poll_interval,
        )  # fmt: skip

    def stop_pods(self) -> None:
        for pod in self.pods:
            replicas.stop_replica(pod)
        self.kubelet.close()
        self.say(f"stopped {len(self.pods)} replicas and removed their pods")


@contextlib.contextmanager
def started(workdir: Path, *, model: str, namespace: str, say: Say) -> Iterator[Environment]:
    """Control plane, namespace, RBAC, operator; replicas come with `add_replicas`."""
    with contextlib.ExitStack() as stack:
        cluster = bring_up(workdir / "cluster", say)
        stack.callback(bring_down, workdir / "cluster", say)
        admin = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(cluster.kubeconfig), persist_config=False
        )
        stack.callback(admin.close)
        env = prepare(workdir, cluster, admin, model=model, namespace=namespace, say=say)
        stack.callback(env.stop_pods)
        env.operator = start_operator(env, namespace)
        stack.callback(stop_operator, env.operator, say)
        yield env


def bring_up(state: Path, say: Say) -> clusters.Cluster:
    if not building.locate().present:
        say("building kube-apiserver and etcd from Go modules (first use: ~8 min on 2 cores)")
    say(f"starting the local control plane (etcd, kube-apiserver on 127.0.0.1) in {state}")
    started = time.monotonic()
    cluster = starting.up(state)
    say(f"control plane up at {cluster.server} in {time.monotonic() - started:.1f}s; CRDs applied")
    return cluster


def bring_down(state: Path, say: Say) -> None:
    stopped = stopping.down(state)
    say(f"control plane down ({', '.join(stopped) or 'nothing was running'} stopped)")


def prepare(
    workdir: Path,
    cluster: clusters.Cluster,
    admin: client.ApiClient,
    *,
    model: str,
    namespace: str,
    say: Say,
) -> Environment:
    authorizing.create_namespace(admin, namespace)
    authorizing.apply_rbac(admin, namespace)
    say(
        f"namespace {namespace}: ServiceAccount, Role and RoleBinding of manifests/rbac, and its "
        "admission policy (the operator may not change any spec)"
    )
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    (workdir / "models").mkdir(parents=True, exist_ok=True)
    kubelet = kubelets.Kubelet(client.CoreV1Api(admin), namespace=namespace)
    found = objects.Namespace(admin, namespace)
    paths = ModelPaths(workdir / "models", model)
    return Environment(workdir, cluster, found, paths, kubelet, secrets.token_urlsafe(24), say)


def start_operator(
    env: Environment, namespace: str, *, extra: dict[str, str] | None = None
) -> operators.Operator:
    identity = env.workdir / "operator-kubeconfig"
    authorizing.create_operator_kubeconfig(env.cluster, namespace, identity)
    operator = operators.start_operator(
        identity, namespace=namespace, model_root=env.paths.root, token=env.token,
        log=env.logs / "operator.log", extra=extra,
    )  # fmt: skip
    user = authorizing.service_account_user(namespace)
    pid = operator.process.pid if operator.process else None
    env.say(f"operator started (pid {pid}) as {user}; metrics on {operator.metrics_target}")
    return operator


def stop_operator(operator: operators.Operator, say: Say) -> None:
    operator.stop()
    say("operator stopped")
