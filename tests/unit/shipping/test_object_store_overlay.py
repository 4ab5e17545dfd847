"""manifests/overlays/object-store: no shared volume; every workload reads the bucket named by
HOTSWAP_STORE through a local cache, the credentials Secret is optional (cloud identities need
none), and inference pods reach only DNS and HTTPS."""

from __future__ import annotations

from tests.unit.shipping.kustomizing import Resource, find, pod_spec

Builds = dict[str, list[Resource]]
OVERLAY = "overlays/object-store"
WORKLOADS = (
    ("Deployment", "hotswap-inference", "inference"),
    ("Deployment", "hotswap-operator", "operator"),
    ("CronJob", "hotswap-train", "train"),
)


def container(spec: Resource, name: str) -> Resource:
    found = [c for c in [*spec.get("initContainers", []), *spec["containers"]] if c["name"] == name]
    assert len(found) == 1, f"expected one container {name}, saw {len(found)}"
    return found[0]


def settings(builds: Builds, overlay: str) -> dict[str, str]:
    maps = [r for r in builds[overlay] if r["kind"] == "ConfigMap"]
    found = [m for m in maps if m["metadata"]["name"].startswith("hotswap-object-store")]
    return dict(found[0]["data"]) if found else {}


def test_no_claim_anywhere_and_every_models_volume_is_a_local_cache(builds: Builds) -> None:
    resources = builds[OVERLAY]
    assert not [r for r in resources if r["kind"] == "PersistentVolumeClaim"]
    for kind, name, _ in WORKLOADS:
        spec = pod_spec(find(resources, kind, name))
        assert spec is not None
        models = [v for v in spec["volumes"] if v["name"] == "models"]
        assert models and "emptyDir" in models[0], f"{kind}/{name}: {models}"
        assert "persistentVolumeClaim" not in models[0], f"{kind}/{name} still claims the volume"
    base = find(builds["base"], "Deployment", "hotswap-inference")  # the twin: base claims it
    base_spec = pod_spec(base)
    assert base_spec is not None
    assert any("persistentVolumeClaim" in v for v in base_spec["volumes"])


def test_every_workload_gets_the_store_and_optional_credentials(builds: Builds) -> None:
    data = settings(builds, OVERLAY)
    assert data["HOTSWAP_STORE"].startswith("s3://"), data
    generated = next(
        r["metadata"]["name"]
        for r in builds[OVERLAY]
        if r["kind"] == "ConfigMap" and r["metadata"]["name"].startswith("hotswap-object-store")
    )
    for kind, name, part in WORKLOADS:
        spec = pod_spec(find(builds[OVERLAY], kind, name))
        assert spec is not None
        sources = container(spec, part).get("envFrom", [])
        maps = [s["configMapRef"]["name"] for s in sources if "configMapRef" in s]
        secrets = [s["secretRef"] for s in sources if "secretRef" in s]
        assert maps == [generated], f"{kind}/{name}: {sources}"
        assert secrets == [{"name": "hotswap-object-store", "optional": True}], sources
    assert settings(builds, "base") == {}  # the twin: the base reads the volume


def test_training_publishes_to_the_bucket(builds: Builds) -> None:
    spec = pod_spec(find(builds[OVERLAY], "CronJob", "hotswap-train"))
    assert spec is not None
    args = container(spec, "train")["args"]
    assert "--store=$(HOTSWAP_STORE)" in args, args
    assert not [a for a in args if a.startswith("--root")], args


def test_inference_pods_reach_only_dns_and_https(builds: Builds) -> None:
    policy = find(builds[OVERLAY], "NetworkPolicy", "hotswap-inference-egress")
    assert policy["spec"]["policyTypes"] == ["Egress"]
    assert policy["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "hotswap-inference"
    }
    ports = sorted(
        (p["port"], p["protocol"]) for rule in policy["spec"]["egress"] for p in rule["ports"]
    )
    assert ports == [(53, "TCP"), (53, "UDP"), (443, "TCP")]
