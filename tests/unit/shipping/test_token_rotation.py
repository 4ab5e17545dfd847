"""A rotated reload token reaches both sides: each Deployment gets the Secret as a mounted file
(the kubelet updates it in place; an env var or a subPath mount never changes) and reads it from
the path HOTSWAP_RELOAD_TOKEN_FILE names, which both re-read on every use."""

from __future__ import annotations

import pytest

from tests.unit.shipping.kustomizing import Resource, find

DEPLOYMENTS = ("hotswap-inference", "hotswap-operator")
OVERLAYS = ("base", "overlays/dev", "overlays/prod")
KEY = "reload-token"


def token_volume(spec: Resource) -> str:
    found = [v["name"] for v in spec["volumes"] if KEY in v.get("secret", {}).get("secretName", "")]
    assert len(found) == 1, f"expected one reload-token Secret volume, saw {found}"
    return str(found[0])


def reader(spec: Resource) -> Resource:
    """The container told where the token file is."""
    found = [
        c
        for c in spec["containers"]
        if any(e["name"] == "HOTSWAP_RELOAD_TOKEN_FILE" for e in c.get("env", []))
    ]
    assert len(found) == 1, f"expected one container with HOTSWAP_RELOAD_TOKEN_FILE, saw {found}"
    return found[0]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_the_token_is_a_mounted_file_that_rotation_updates(
    builds: dict[str, list[Resource]], overlay: str, deployment: str
) -> None:
    spec = find(builds[overlay], "Deployment", deployment)["spec"]["template"]["spec"]
    volume = token_volume(spec)
    container = reader(spec)
    mounts = [m for m in container["volumeMounts"] if m["name"] == volume]
    assert len(mounts) == 1, f"{deployment}: the Secret volume is not mounted: {mounts}"
    assert "subPath" not in mounts[0], f"{deployment}: a subPath mount never sees a rotation"
    env = {e["name"]: e for e in container["env"]}
    path = env["HOTSWAP_RELOAD_TOKEN_FILE"]["value"]
    assert path == f"{mounts[0]['mountPath'].rstrip('/')}/{KEY}", (deployment, path, mounts)
    from_secrets = [n for n, e in env.items() if "secretKeyRef" in e.get("valueFrom", {})]
    assert "HOTSWAP_RELOAD_TOKEN" not in env and not from_secrets, (
        f"{deployment}: a token in an env var is read once and never rotates: {from_secrets}"
    )
