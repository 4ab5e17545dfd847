"""The feedback key: generated per install, never committed, mounted into the inference pods
only, as a file HOTSWAP_FEEDBACK_KEY_FILE names (a rotated Secret reaches a mounted file; an
env var or a subPath mount never changes)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.unit.shipping.kustomizing import REPO, Resource, find

OVERLAYS = ("base", "overlays/dev", "overlays/prod")
KEY = "feedback-key"
SETTING = "HOTSWAP_FEEDBACK_KEY_FILE"


def pod_spec_of(builds: dict[str, list[Resource]], overlay: str, name: str) -> Resource:
    return dict(find(builds[overlay], "Deployment", name)["spec"]["template"]["spec"])


def key_volumes(spec: Resource) -> list[str]:
    return [v["name"] for v in spec["volumes"] if KEY in v.get("secret", {}).get("secretName", "")]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_inference_pods_read_the_generated_key_from_a_mounted_file(
    builds: dict[str, list[Resource]], overlay: str
) -> None:
    secret = find(builds[overlay], "Secret", "hotswap-feedback-key-")
    assert list(secret["data"]) == [KEY], secret["data"].keys()
    spec = pod_spec_of(builds, overlay, "hotswap-inference")
    volume = next(v for v in spec["volumes"] if v["name"] in key_volumes(spec))
    assert volume["secret"]["secretName"] == secret["metadata"]["name"], volume
    (container,) = spec["containers"]
    mounts = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    assert len(mounts) == 1 and "subPath" not in mounts[0], mounts
    env = {e["name"]: e for e in container["env"]}
    assert env[SETTING]["value"] == f"{mounts[0]['mountPath'].rstrip('/')}/{KEY}", env[SETTING]
    assert "HOTSWAP_FEEDBACK_KEY" not in env, "a key in an env var is read once and never rotates"


def test_the_operator_does_not_get_the_feedback_key(builds: dict[str, list[Resource]]) -> None:
    inference = pod_spec_of(builds, "base", "hotswap-inference")
    operator = pod_spec_of(builds, "base", "hotswap-operator")
    assert key_volumes(inference), "the twin: the inference pods mount it"
    assert key_volumes(operator) == [], f"expected no feedback key, saw {operator['volumes']}"


def test_the_feedback_key_is_never_committed() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "manifests"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "manifests/base/kustomization.yaml" in tracked, "the twin: the listing works"
    assert not [path for path in tracked if Path(path).name == KEY], tracked
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", f"manifests/base/{KEY}"], cwd=REPO, check=False
    )
    assert ignored.returncode == 0, f"expected manifests/base/{KEY} to be git-ignored"
