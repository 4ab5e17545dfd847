"""Every object the kustomizations build is accepted by a server-side dry-run against the local
kube-apiserver, and the namespace's `warn: restricted` label draws no Pod Security warning for
any workload (the apiserver's PodSecurity admission runs on dry-runs too).

Each build goes into a namespace of its own (a kustomization over the overlay), created for
real with the overlay's labels, so a dry-run of namespaced objects has a namespace to land in.
PodMonitor and PrometheusRule need the Prometheus Operator's CRDs: stand-ins that accept any
fields are installed, so those two kinds are checked for shape only, not against their schema.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from hotswap.cluster import applying, clusters
from tests.unit.shipping import kustomizing

MONITORING_KINDS = (("PodMonitor", "podmonitors"), ("PrometheusRule", "prometheusrules"))
NONCOMPLIANT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "privileged"},
    "spec": {
        "selector": {"matchLabels": {"app": "privileged"}},
        "template": {
            "metadata": {"labels": {"app": "privileged"}},
            "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}]},
        },
    },
}


def run_kubectl(
    cluster: clusters.Cluster, *args: str, stdin: str
) -> subprocess.CompletedProcess[str]:
    argv = [str(applying.kubectl_path()), f"--kubeconfig={cluster.kubeconfig}", *args]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)


def stand_in_crd(kind: str, plural: str) -> dict[str, object]:
    schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.monitoring.coreos.com"},
        "spec": {
            "group": "monitoring.coreos.com",
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def cluster(control_plane: clusters.Cluster) -> clusters.Cluster:
    """The project's CRDs and the monitoring stand-ins, applied for real and established."""
    applying.apply_crds(control_plane)
    stand_ins = [stand_in_crd(kind, plural) for kind, plural in MONITORING_KINDS]
    items = json.dumps({"apiVersion": "v1", "kind": "List", "items": stand_ins})
    done = run_kubectl(control_plane, "apply", "-f", "-", stdin=items)
    assert done.returncode == 0, done.stderr
    established = ["wait", "--for=condition=Established", "--timeout=60s"]
    names = [f"crd/{plural}.monitoring.coreos.com" for _, plural in MONITORING_KINDS]
    assert run_kubectl(control_plane, *established, *names, stdin="").returncode == 0
    return control_plane


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return kustomizing.copy_tree(tmp_path_factory.mktemp("dry-run"))


def build_in_namespace(manifests: Path, name: str, namespace: str) -> list[kustomizing.Resource]:
    """`manifests/<name>` with every namespaced object (and the Namespace) moved to `namespace`."""
    wrapper = manifests / f"check-{namespace}"
    wrapper.mkdir()
    kustomization = {"namespace": namespace, "resources": [f"../{name}"]}
    (wrapper / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return kustomizing.build(manifests, wrapper.name)


def create_namespace(
    cluster: clusters.Cluster, built: list[kustomizing.Resource], name: str
) -> None:
    """The overlay's Namespace (with its Pod Security labels), or a bare one for samples/jobs."""
    found = [r for r in built if r["kind"] == "Namespace"]
    namespace = found[0] if found else {"apiVersion": "v1", "kind": "Namespace", "metadata": {}}
    namespace["metadata"]["name"] = name
    done = run_kubectl(cluster, "apply", "-f", "-", stdin=json.dumps(namespace))
    assert done.returncode == 0, done.stderr


def dry_run(
    cluster: clusters.Cluster, objects: list[kustomizing.Resource]
) -> subprocess.CompletedProcess[str]:
    items = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    flags = ["--server-side", "--force-conflicts", "--dry-run=server", "--field-manager=shipping"]
    return run_kubectl(cluster, "apply", *flags, "-f", "-", stdin=items)


@pytest.mark.parametrize("name", kustomizing.KUSTOMIZATIONS)
def test_server_accepts_every_object_without_pod_security_warnings(
    cluster: clusters.Cluster, manifests: Path, name: str
) -> None:
    namespace = f"shipping-{uuid.uuid4().hex[:8]}"
    built = build_in_namespace(manifests, name, namespace)
    create_namespace(cluster, built, namespace)
    done = dry_run(cluster, built)
    assert done.returncode == 0, f"expected manifests/{name} accepted, saw:\n{done.stderr}"
    accepted = [line for line in done.stdout.splitlines() if "(server dry run)" in line]
    assert len(accepted) == len(built), f"expected {len(built)} objects, saw:\n{done.stdout}"
    assert "PodSecurity" not in done.stderr, f"expected no Pod Security warning:\n{done.stderr}"


def test_a_workload_breaking_the_restricted_profile_is_warned_about(
    cluster: clusters.Cluster, manifests: Path
) -> None:
    namespace = f"shipping-{uuid.uuid4().hex[:8]}"
    create_namespace(cluster, build_in_namespace(manifests, "base", namespace), namespace)
    offender = {**NONCOMPLIANT, "metadata": {"name": "privileged", "namespace": namespace}}
    done = dry_run(cluster, [offender])
    assert 'would violate PodSecurity "restricted' in done.stderr, (
        f"expected the warn: restricted label to flag a bare container, saw:\n{done.stderr}"
    )
