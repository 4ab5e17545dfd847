"""A RandomForestClassifier flattened into numpy arrays, walked for every tree at once.

All trees' nodes sit in one set of arrays; a leaf points to itself, so `depth` steps of
"go left if x[feature] <= threshold" bring every tree of every row to its leaf. Inputs are
compared as float32, as sklearn's trees compare them. Anything that is not a finite numeric
(rows, features) matrix goes to the plain estimator, errors included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from hotswap_inference import predictors
from hotswap_inference.predictors import Predictions, Unsupported


@dataclass(frozen=True)
class FlatForest:
    features: NDArray[np.intp]  # per node; 0 at leaves
    thresholds: NDArray[np.float64]  # per node; +inf at leaves, so a leaf always goes "left"
    lefts: NDArray[np.intp]  # per node, global index; a leaf points to itself
    rights: NDArray[np.intp]
    values: NDArray[np.float64]  # per node, class fractions as the tree's predict_proba gives
    roots: NDArray[np.intp]  # per tree
    depth: int
    n_features: int

    def probabilities(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        nodes = np.broadcast_to(self.roots, (len(rows), len(self.roots)))
        at = np.arange(len(rows))[:, None]
        for _ in range(self.depth):
            left = rows[at, self.features[nodes]] <= self.thresholds[nodes]
            nodes = np.where(left, self.lefts[nodes], self.rights[nodes])
        total: NDArray[np.float64] = self.values[nodes].sum(axis=1)
        return total / len(self.roots)


class ForestPredictor(predictors.FastPredictor):
    kind = "forest"

    def __init__(self, forest: FlatForest, *, reference: predictors.SklearnPredictor) -> None:
        super().__init__(reference=reference)
        self.forest = forest

    def predict_own(self, inputs: Sequence[Any]) -> Predictions | None:
        """Without sklearn; None unless the inputs are a finite (rows, features) matrix."""
        rows = self._rows(inputs)
        if rows is None:
            return None
        return predictors.predictions_from(self.forest.probabilities(rows), self.classes)

    def _rows(self, inputs: Sequence[Any]) -> NDArray[np.float64] | None:
        try:
            rows = np.asarray(inputs, dtype=np.float32).astype(np.float64)
        except (TypeError, ValueError):
            return None
        well_formed = rows.ndim == 2 and rows.shape[1] == self.forest.n_features and len(rows)
        return rows if well_formed and np.isfinite(rows).all() else None


def compile_forest(estimator: Any) -> ForestPredictor:
    """The fast predictor for a fitted RandomForestClassifier, or Unsupported naming why."""
    if type(estimator) is not RandomForestClassifier:
        raise Unsupported(f"model {type(estimator).__name__} is not a RandomForestClassifier")
    if estimator.n_outputs_ != 1:
        raise Unsupported("RandomForestClassifier with several outputs (fast path: one)")
    trees = list(estimator.estimators_)
    if any(type(tree) is not DecisionTreeClassifier for tree in trees):
        raise Unsupported("RandomForestClassifier holding trees other than DecisionTreeClassifier")
    forest = flatten(trees, n_features=int(estimator.n_features_in_))
    return ForestPredictor(forest, reference=predictors.SklearnPredictor(estimator))


def flatten(trees: list[Any], *, n_features: int) -> FlatForest:
    parts = [_tree_arrays(tree.tree_) for tree in trees]
    offsets = np.cumsum([0] + [len(p[0]) for p in parts[:-1]])
    return FlatForest(
        features=np.concatenate([p[0] for p in parts]),
        thresholds=np.concatenate([p[1] for p in parts]),
        lefts=np.concatenate([p[2] + o for p, o in zip(parts, offsets, strict=True)]),
        rights=np.concatenate([p[3] + o for p, o in zip(parts, offsets, strict=True)]),
        values=np.concatenate([p[4] for p in parts]),
        roots=np.asarray(offsets, dtype=np.intp),
        depth=max(int(tree.tree_.max_depth) for tree in trees),
        n_features=n_features,
    )


def _tree_arrays(tree: Any) -> tuple[NDArray[Any], ...]:
    leaf = tree.children_left == -1
    own = np.arange(tree.node_count, dtype=np.intp)
    values = np.asarray(tree.value[:, 0, :], dtype=np.float64)
    totals = values.sum(axis=1, keepdims=True)
    totals[totals == 0.0] = 1.0
    return (
        np.where(leaf, 0, tree.feature).astype(np.intp),
        np.where(leaf, np.inf, tree.threshold).astype(np.float64),
        np.where(leaf, own, tree.children_left).astype(np.intp),
        np.where(leaf, own, tree.children_right).astype(np.intp),
        values / totals,
    )
