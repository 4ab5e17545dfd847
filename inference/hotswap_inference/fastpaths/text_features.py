"""TF-IDF / count features of one text, read from a fitted CountVectorizer or TfidfVectorizer.

Tokens come from the vectorizer's own `build_analyzer()`, so every analyzer option
(lowercase, token_pattern, ngram_range, stop words, char n-grams, strip_accents, ...) behaves
exactly as in sklearn; the weighting (binary, sublinear_tf, idf, norm) is redone in numpy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer

from hotswap_inference.predictors import Unsupported

Weights = tuple[NDArray[np.intp], NDArray[np.float64]]  # feature indices, their values


@dataclass(frozen=True)
class TextFeatures:
    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    binary: bool
    sublinear_tf: bool
    idf: NDArray[np.float64] | None
    norm: str | None

    def weights(self, text: str) -> Weights:
        """Indices and values of the non-zero features of `text`, as sklearn computes them."""
        counts: dict[int, int] = {}
        vocabulary = self.vocabulary
        for token in self.analyze(text):
            index = vocabulary.get(token)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        indices = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        return indices, self._weigh(indices, values)

    def _weigh(self, indices: NDArray[np.intp], values: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.binary:
            values.fill(1.0)
        if self.sublinear_tf:
            np.log(values, out=values)
            values += 1.0
        if self.idf is not None:
            values *= self.idf[indices]
        return _normalize(values, self.norm)


def _normalize(values: NDArray[np.float64], norm: str | None) -> NDArray[np.float64]:
    if norm is None or not values.size:
        return values
    total = math.sqrt(values @ values) if norm == "l2" else float(np.abs(values).sum())
    if total:
        values /= total
    return values


def read_features(vectorizer: Any, tfidf: Any = None) -> TextFeatures:
    """The features of a fitted vectorizer (and an optional TfidfTransformer after it)."""
    _check_vectorizer(vectorizer)
    weighting = vectorizer if type(vectorizer) is TfidfVectorizer else tfidf
    if weighting is not None and type(weighting) not in (TfidfVectorizer, TfidfTransformer):
        raise Unsupported(f"{type(weighting).__name__} after a vectorizer")
    return TextFeatures(
        analyze=vectorizer.build_analyzer(),
        vocabulary=dict(vectorizer.vocabulary_),
        binary=bool(vectorizer.binary),
        sublinear_tf=bool(weighting is not None and weighting.sublinear_tf),
        idf=_idf(weighting),
        norm=None if weighting is None else _norm(weighting.norm),
    )


def _check_vectorizer(vectorizer: Any) -> None:
    if type(vectorizer) not in (CountVectorizer, TfidfVectorizer):
        raise Unsupported(f"text step {type(vectorizer).__name__} (fast path: Count/Tfidf only)")
    if vectorizer.input != "content":
        raise Unsupported(f"vectorizer option input={vectorizer.input!r} (only 'content')")
    dtype = np.dtype(vectorizer.dtype)
    if dtype != np.float64 and dtype.kind not in "iu":
        raise Unsupported(f"vectorizer option dtype={dtype.name} (only float64 or integers)")


def _idf(weighting: Any) -> NDArray[np.float64] | None:
    if weighting is None or not weighting.use_idf:
        return None
    return np.array(weighting.idf_, dtype=np.float64, copy=True)


def _norm(norm: Any) -> str | None:
    if norm not in (None, "l1", "l2"):
        raise Unsupported(f"tf-idf option norm={norm!r}")
    return None if norm is None else str(norm)
