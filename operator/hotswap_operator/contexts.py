"""What every reconcile of one object needs: clients, settings, metrics and where it lives."""

from __future__ import annotations

from dataclasses import dataclass

from hotswap.store.layout import ModelPaths
from hotswap_operator.apis import Apis
from hotswap_operator.configs import Config
from hotswap_operator.metrics import Metrics


@dataclass(frozen=True)
class Context:
    apis: Apis
    config: Config
    metrics: Metrics
    namespace: str
    name: str

    def paths(self, model: str) -> ModelPaths:
        return ModelPaths(self.config.model_root, model)
