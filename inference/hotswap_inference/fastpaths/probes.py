"""Inputs made from a model itself, checked beside the stored samples before a fast path serves.

Text: empty and blank strings, unicode, unknown words, case changes, vocabulary terms alone
and together, a long text (past the inline limit; the 20,000 characters it had before took
half of a reload's verification and showed nothing more). Forest: rows sitting exactly on,
just below and just above the split thresholds, where a float32/float64 slip would show.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hotswap_inference.fastpaths import forests, text_features

LONG_REPEATS = 8  # the long probe: ~3,000 characters, past the inline limit (2,000)
EDGE_TEXTS = ["", " ", "\n\t", "Ünïcödé ñ 東京 😀", "zzqx unknownword", "A", "!!! ??? ..."]


def text_probes(features: text_features.TextFeatures, *, count: int = 40) -> list[str]:
    terms = sorted(features.vocabulary, key=features.vocabulary.__getitem__)
    chosen = terms[:: max(1, len(terms) // count)][:count]
    mixed = [" ".join(chosen[i : i + 5]) for i in range(0, len(chosen), 5)]
    shouted = [text.upper() for text in mixed]
    return [*EDGE_TEXTS, *chosen, *mixed, *shouted, " ".join(chosen * LONG_REPEATS)]


def forest_probes(forest: forests.FlatForest, *, count: int = 64, seed: int = 0) -> list[Any]:
    rng = np.random.default_rng(seed)
    splits = np.isfinite(forest.thresholds)
    rows = np.zeros((count, forest.n_features), dtype=np.float64)
    for feature in range(forest.n_features):
        cuts = forest.thresholds[splits & (forest.features == feature)]
        if cuts.size:
            rows[:, feature] = _near(rng.choice(cuts, size=count), rng)
    return rows.tolist()


def _near(cuts: np.ndarray[Any, Any], rng: np.random.Generator) -> np.ndarray[Any, Any]:
    """Each cut itself, or the next float32 below or above it."""
    as32 = cuts.astype(np.float32)
    shift = rng.integers(-1, 2, size=len(cuts))
    below, above = np.nextafter(as32, -np.inf), np.nextafter(as32, np.inf)
    return np.where(shift < 0, below, np.where(shift > 0, above, as32)).astype(np.float64)
