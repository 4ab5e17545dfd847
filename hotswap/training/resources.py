"""The ModelVersion custom resource of a published version, as a dict and as YAML (its shape:
`hotswap.resources.model_version`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotswap import resources as api
from hotswap.store import names
from hotswap.store.publishing import Published
from hotswap.training.errors import MissingExtra


def build_model_version(published: Published, *, metrics: Mapping[str, float]) -> dict[str, Any]:
    """The ModelVersion of `published`, with its headline metrics (accuracy, macroF1)."""
    return api.model_version(
        names.resource_name(published.model, published.version),
        model=published.model,
        version=published.version,
        artifact_path=published.relative,
        digest=published.digest,
        format=published.format,
        metrics={"accuracy": metrics["accuracy"], "macroF1": metrics["macroF1"]},
    )


def dump_yaml(resource: Mapping[str, Any]) -> str:
    try:
        import yaml
    except ImportError as exc:
        raise MissingExtra("PyYAML is missing: pip install 'hotswap[train]'") from exc
    return str(yaml.safe_dump(dict(resource), sort_keys=False, default_flow_style=False))
