"""The Hotswap API's identity, in one place (kubebuilder's groupversion_info.go): group, version,
kinds, plurals, labels, annotations and arm names, and the builders of its two objects.

Standard library only, so the operator, the CLI, the local environments, training and the tests
all spell the API the same way from here. crds/*.yaml is the schema; a test ties the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GROUP = "hotswap.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

MODEL_VERSION, CANARY = "ModelVersion", "Canary"  # kinds
MODEL_VERSIONS, CANARIES = "modelversions", "canaries"  # plurals

MODEL_LABEL = f"{GROUP}/model"  # on a ModelVersion and on the model's inference pods
PROMOTE_ANNOTATION = f"{GROUP}/promote"  # on a Canary: continue a paused rollout
ABORT_ANNOTATION = f"{GROUP}/abort"  # on a Canary: all traffic back to stable
ADMIN_PORT_ANNOTATION = f"{GROUP}/admin-port"  # on a pod: its admin port, when not the default
FINALIZER = f"{GROUP}/finalizer"

STABLE_ARM, CANARY_ARM = "stable", "canary"  # the arms pods and the operator label metrics with


def model_version(
    name: str,
    *,
    model: str,
    version: str,
    artifact_path: str,
    digest: str,
    format: str,
    metrics: Mapping[str, float],
) -> dict[str, Any]:
    """A ModelVersion: one published version of `model`, labelled with it."""
    return {
        "apiVersion": API_VERSION,
        "kind": MODEL_VERSION,
        "metadata": {"name": name, "labels": {MODEL_LABEL: model}},
        "spec": {
            "model": model,
            "version": version,
            "artifactPath": artifact_path,
            "digest": digest,
            "format": format,
            "metrics": dict(metrics),
        },
    }


def canary(
    name: str, *, model: str, version: str, labels: Mapping[str, str], **spec: Any
) -> dict[str, Any]:
    """A Canary of `model` at ModelVersion `version`, selecting pods by `labels`; `spec` adds or
    overrides fields in their API spelling (strategy, stickyHeader, analysis, ...)."""
    selector = {"matchLabels": dict(labels)}
    return {
        "apiVersion": API_VERSION,
        "kind": CANARY,
        "metadata": {"name": name},
        "spec": {"model": model, "version": version, "selector": selector} | spec,
    }
