"""The kustomizations build with kubectl, and what they build is what issue 5 asks for: a
restricted namespace, least privilege, three hardened inference pods, the admin port closed to
all but the operator, a generated reload token, training that registers ModelVersions."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.unit.shipping import kustomizing
from tests.unit.shipping.kustomizing import REPO, Resource, find, pod_spec

Builds = dict[str, list[Resource]]
RESTRICTED = "restricted"
PART_OF = "app.kubernetes.io/part-of"
KIND_CRD = "CustomResourceDefinition"


def containers(spec: Resource) -> list[Resource]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def workloads(resources: list[Resource]) -> list[tuple[str, Resource]]:
    found = [(f"{r['kind']}/{r['metadata']['name']}", pod_spec(r)) for r in resources]
    return [(name, spec) for name, spec in found if spec is not None]


def test_every_kustomization_builds(builds: Builds) -> None:
    for name, resources in builds.items():
        assert resources, f"expected objects from manifests/{name}, saw none"


def test_base_carries_the_crds_folder_unchanged(builds: Builds) -> None:
    """crds/ is included as it is (no copy): only the base's part-of label is added."""
    sources = {path: yaml.safe_load(path.read_text()) for path in (REPO / "crds").glob("*.yaml")}
    in_folder = sorted(source["metadata"]["name"] for source in sources.values())
    in_build = sorted(r["metadata"]["name"] for r in builds["base"] if r["kind"] == KIND_CRD)
    expected = ["canaries.hotswap.dev", "modelversions.hotswap.dev"]
    assert in_folder == in_build == expected, (
        f"expected {expected}, crds/ {in_folder}, base {in_build}"
    )
    for path, source in sources.items():
        crd = copy.deepcopy(find(builds["base"], KIND_CRD, source["metadata"]["name"]))
        labels = crd["metadata"].pop("labels")
        assert labels == {PART_OF: "hotswap"}, f"{path.name}: expected only {PART_OF}, saw {labels}"
        assert crd == source, f"expected the base to carry crds/{path.name} as it is"


def test_namespace_enforces_restricted_pod_security(builds: Builds) -> None:
    labels = find(builds["base"], "Namespace", "hotswap")["metadata"]["labels"]
    for mode in ("enforce", "warn", "audit"):
        seen = labels.get(f"pod-security.kubernetes.io/{mode}")
        assert seen == RESTRICTED, f"expected {mode}={RESTRICTED}, saw {seen}"


@pytest.mark.parametrize("overlay", ["base", "overlays/dev", "overlays/prod", "jobs"])
def test_every_workload_meets_the_restricted_profile(builds: Builds, overlay: str) -> None:
    for name, spec in workloads(builds[overlay]):
        pod = spec["securityContext"]
        assert pod.get("runAsNonRoot") is True, f"{name}: expected runAsNonRoot"
        assert pod.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        for container in containers(spec):
            where = f"{name} container {container['name']}"
            security = container["securityContext"]
            assert security.get("allowPrivilegeEscalation") is False, where
            assert security.get("readOnlyRootFilesystem") is True, where
            assert security.get("capabilities", {}).get("drop") == ["ALL"], where
            assert "limits" in container["resources"], f"{where}: expected resource limits"


def test_inference_deployment(builds: Builds) -> None:
    deployment = find(builds["base"], "Deployment", "hotswap-inference")
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert spec["automountServiceAccountToken"] is False
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": 8000, "admin": 8001, "metrics": 9189}
    mounts = {m["mountPath"]: m.get("readOnly", False) for m in container["volumeMounts"]}
    assert mounts["/models"] is True, "expected the model volume read-only for inference pods"


def test_operator_deployment_is_a_single_recreated_replica(builds: Builds) -> None:
    deployment = find(builds["base"], "Deployment", "hotswap-operator")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    find(builds["base"], "ServiceAccount", account)


def test_model_volume_is_read_write_many_except_on_single_node_dev(builds: Builds) -> None:
    for overlay, mode in (("base", "ReadWriteMany"), ("overlays/prod", "ReadWriteMany")):
        claim = find(builds[overlay], "PersistentVolumeClaim", "hotswap-models")
        assert claim["spec"]["accessModes"] == [mode], f"{overlay}: expected {mode}"
    dev = find(builds["overlays/dev"], "PersistentVolumeClaim", "hotswap-models")
    assert dev["spec"]["accessModes"] == ["ReadWriteOnce"], "expected RWO on kind (local-path)"


def test_client_service_exposes_serving_port_only(builds: Builds) -> None:
    service = find(builds["base"], "Service", "hotswap-inference")
    ports = [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]]
    assert ports == [(8000, "http")], f"expected only 8000 -> http, saw {ports}"


def admin_sources(resources: list[Resource]) -> list[Resource]:
    """Every `from` entry of a policy selecting inference pods that opens port 8001."""
    found = []
    for policy in (r for r in resources if r["kind"] == "NetworkPolicy"):
        selected = policy["spec"]["podSelector"].get("matchLabels", {})
        if selected.get("app.kubernetes.io/name") not in (None, "hotswap-inference"):
            continue
        for rule in policy["spec"].get("ingress", []):
            ports = [p.get("port") for p in rule.get("ports", [])]
            if not ports or 8001 in ports:
                found += rule.get("from", [{"anywhere": True}])
    return found


@pytest.mark.parametrize("overlay", ["base", "overlays/prod"])
def test_admin_port_is_reachable_from_the_operator_only(builds: Builds, overlay: str) -> None:
    operator = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "hotswap-operator"}}}
    assert admin_sources(builds[overlay]) == [operator]
    deny = find(builds[overlay], "NetworkPolicy", "hotswap-default-deny-ingress")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_reload_token_is_generated_and_mounted_by_both_sides(builds: Builds) -> None:
    secret = find(builds["base"], "Secret", "hotswap-reload-token-")
    for name in ("hotswap-inference", "hotswap-operator"):
        volumes = find(builds["base"], "Deployment", name)["spec"]["template"]["spec"]["volumes"]
        names = [v["secret"]["secretName"] for v in volumes if "secret" in v]
        assert secret["metadata"]["name"] in names, f"{name}: expected the generated Secret"


def test_no_token_or_secret_is_committed() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "manifests", "monitoring"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not [path for path in tracked if Path(path).name == "reload-token"]
    for path in tracked:
        text = (REPO / path).read_text()
        assert "kind: Secret" not in text, f"expected no Secret object committed, saw one in {path}"


def test_training_job_runs_the_cronjob_pod_and_may_only_register_versions(builds: Builds) -> None:
    cron = find(builds["base"], "CronJob", "hotswap-train")
    job = find(builds["jobs"], "Job", "hotswap-train-once")
    assert job["spec"] == cron["spec"]["jobTemplate"]["spec"], "expected the same Job spec"
    spec = job["spec"]["template"]["spec"]
    train = spec["initContainers"][0]
    assert train["command"] + train["args"][:1] == ["hotswap", "train"]
    assert "--manifest-out=/work/modelversion.yaml" in train["args"]
    assert spec["automountServiceAccountToken"] is False
    token_mounts = [
        c["name"] for c in containers(spec) for m in c["volumeMounts"] if m["name"] == "api-token"
    ]
    assert token_mounts == ["register"], "expected the API token in the register container only"
    role = find(builds["base"], "Role", "hotswap-trainer")
    assert role["rules"] == [
        {
            "apiGroups": ["hotswap.dev"],
            "resources": ["modelversions"],
            "verbs": ["get", "create", "patch"],
        }
    ]


OURS = {"modelversions", "canaries"}
SPEC_GUARD = "hotswap-operator-never-writes-spec"
OPERATOR = "'system:serviceaccount:' + request.namespace + ':hotswap-operator'"


def test_operator_writes_our_objects_by_patch_only(builds: Builds) -> None:
    """The Role may patch Canaries and ModelVersions (kopf's annotations and finalizer), never
    create, update or delete them; RBAC cannot keep that patch off spec (the policy does)."""
    role = find(builds["base"], "Role", "hotswap-operator")
    patched = set()
    for rule in role["rules"]:
        ours = set(rule["resources"]) & OURS
        writes = set(rule["verbs"]) - {"get", "list", "watch"}
        assert not (ours and writes - {"patch"}), f"expected patch at most on {ours}, saw {rule}"
        patched |= ours if "patch" in writes else set()
    assert patched == OURS, f"expected patch on {OURS} (kopf's metadata), saw {patched}"


@pytest.mark.parametrize("overlay", ["base", "overlays/dev", "overlays/prod"])
def test_an_admission_policy_refuses_every_spec_change_by_the_operator(
    builds: Builds, overlay: str
) -> None:
    policy = find(builds[overlay], "ValidatingAdmissionPolicy", SPEC_GUARD)
    binding = find(builds[overlay], "ValidatingAdmissionPolicyBinding", SPEC_GUARD)
    for scoped in (policy, binding):
        assert "namespace" not in scoped["metadata"], f"cluster-scoped, saw {scoped['metadata']}"
    spec = policy["spec"]
    (rule,) = spec["matchConstraints"]["resourceRules"]
    covered = {r.split("/")[0] for r in rule["resources"]}
    assert (rule["apiGroups"], rule["operations"], covered) == (["hotswap.dev"], ["UPDATE"], OURS)
    (condition,) = spec["matchConditions"]
    assert condition["expression"].split() == ["request.userInfo.username", "==", *OPERATOR.split()]
    checks = [(v["expression"], v["reason"]) for v in spec["validations"]]
    assert checks == [("object.spec == oldObject.spec", "Forbidden")], checks
    assert spec["failurePolicy"] == "Fail"
    assert (binding["spec"]["policyName"], binding["spec"]["validationActions"]) == (
        SPEC_GUARD,
        ["Deny"],
    )


def test_samples_are_a_model_version_and_a_canary_that_names_it(builds: Builds) -> None:
    kinds = sorted(r["kind"] for r in builds["samples"])
    assert kinds == ["Canary", "ModelVersion"]
    version = find(builds["samples"], "ModelVersion", "intent-")
    canary = find(builds["samples"], "Canary", "intent")
    assert canary["spec"]["version"] == version["metadata"]["name"]


def test_prod_spreads_pods_and_keeps_two_through_disruptions(builds: Builds) -> None:
    budget = find(builds["overlays/prod"], "PodDisruptionBudget", "hotswap-inference")
    assert budget["spec"]["minAvailable"] == 2
    deployment = find(builds["overlays/prod"], "Deployment", "hotswap-inference")
    spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in spread} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }
    images = [c["image"] for _, s in workloads(builds["overlays/prod"]) for c in containers(s)]
    assert all("registry.example.com/" in i or i.startswith("registry.k8s.io/") for i in images)


def test_build_fails_without_the_reload_token(manifests: Path, tmp_path: Path) -> None:
    bare = kustomizing.copy_tree(tmp_path)
    (bare / "base" / "reload-token").unlink()
    with pytest.raises(AssertionError, match="reload-token"):
        kustomizing.build(bare, "base")
