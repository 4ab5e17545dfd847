"""TF-IDF / count features of one text, read from a fitted CountVectorizer or TfidfVectorizer.

Tokens come from the vectorizer's own pieces: for the word analyzer its `build_preprocessor()`,
`build_tokenizer()` and `get_stop_words()` with the n-grams joined here (as `_word_ngrams`
joins them, in C); for any other analyzer its whole `build_analyzer()`. So every option
(lowercase, token_pattern, ngram_range, stop words, char n-grams, strip_accents, ...) behaves
as in sklearn. The weighting (binary, sublinear_tf, idf, norm) is redone in plain Python over
the few terms a text holds: cheaper than numpy calls on arrays of ten values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer

from hotswap_inference.predictors import Unsupported

Weights = tuple[list[int], list[float]]  # feature indices, their values


@dataclass(frozen=True)
class TextFeatures:
    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    binary: bool
    sublinear_tf: bool
    idf: list[float] | None
    norm: str | None

    def weights(self, text: str) -> Weights:
        """Indices and values of the non-zero features of `text`, as sklearn computes them."""
        idf = self.idf
        counts: dict[str, int] = {}
        for token in self.analyze(text):  # a Counter's constructor costs more than these few
            counts[token] = counts.get(token, 0) + 1
        indices, values = [], []
        for index, count in zip(map(self.vocabulary.get, counts), counts.values(), strict=True):
            if index is not None:
                indices.append(index)
                value = 1.0 if count == 1 else self.term_frequency(count)  # 1.0 in every mode
                values.append(value if idf is None else value * idf[index])
        return indices, _normalize(values, self.norm)

    def term_frequency(self, count: int) -> float:
        if self.binary:
            return 1.0
        return math.log(count) + 1.0 if self.sublinear_tf else float(count)


def _normalize(values: list[float], norm: str | None) -> list[float]:
    if norm is None or not values:
        return values
    total = math.sqrt(sum([v * v for v in values])) if norm == "l2" else sum(map(abs, values))
    return [value / total for value in values] if total else values


def read_features(vectorizer: Any, tfidf: Any = None) -> TextFeatures:
    """The features of a fitted vectorizer (and an optional TfidfTransformer after it)."""
    _check_vectorizer(vectorizer)
    weighting = vectorizer if type(vectorizer) is TfidfVectorizer else tfidf
    if weighting is not None and type(weighting) not in (TfidfVectorizer, TfidfTransformer):
        raise Unsupported(f"{type(weighting).__name__} after a vectorizer")
    return TextFeatures(
        analyze=build_analyzer(vectorizer),
        # plain ints: with max_features sklearn's are numpy.int64, which the compiled `weights`
        # refuses where it expects an int (and which index a list more slowly)
        vocabulary={str(term): int(index) for term, index in vectorizer.vocabulary_.items()},
        binary=bool(vectorizer.binary),
        sublinear_tf=bool(weighting is not None and weighting.sublinear_tf),
        idf=_idf(weighting),
        norm=None if weighting is None else _norm(weighting.norm),
    )


def build_analyzer(vectorizer: Any) -> Callable[[str], list[str]]:
    """Text to tokens: sklearn's own analyzer, or for words its own pieces and joined n-grams."""
    if vectorizer.analyzer != "word":
        analyze: Callable[[str], list[str]] = vectorizer.build_analyzer()
        return analyze
    preprocess = vectorizer.build_preprocessor()
    tokenize = vectorizer.build_tokenizer()
    stop_words: Collection[str] | None = vectorizer.get_stop_words()
    low, high = vectorizer.ngram_range

    def analyze_words(text: str) -> list[str]:
        tokens = tokenize(preprocess(text))
        if stop_words:
            tokens = [token for token in tokens if token not in stop_words]
        grams = list(tokens) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            grams.extend(map(" ".join, zip(*(tokens[k:] for k in range(n)), strict=False)))
        return grams

    return analyze_words


def _check_vectorizer(vectorizer: Any) -> None:
    if type(vectorizer) not in (CountVectorizer, TfidfVectorizer):
        raise Unsupported(f"text step {type(vectorizer).__name__} (fast path: Count/Tfidf only)")
    if vectorizer.input != "content":
        raise Unsupported(f"vectorizer option input={vectorizer.input!r} (only 'content')")
    dtype = np.dtype(vectorizer.dtype)
    if dtype != np.float64 and dtype.kind not in "iu":
        raise Unsupported(f"vectorizer option dtype={dtype.name} (only float64 or integers)")


def _idf(weighting: Any) -> list[float] | None:
    if weighting is None or not weighting.use_idf:
        return None
    return [float(value) for value in weighting.idf_]  # a copy, as Python floats


def _norm(norm: Any) -> str | None:
    if norm not in (None, "l1", "l2"):
        raise Unsupported(f"tf-idf option norm={norm!r}")
    return None if norm is None else str(norm)
