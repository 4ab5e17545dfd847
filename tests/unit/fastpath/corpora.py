"""Small fitted models for the fast-path tests, built with sklearn directly (no store)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

INTENTS = {
    "greet": "hello hi hey good morning evening there friend bonjour café",
    "order": "order buy purchase pizza coffee two large extra cheese please",
    "refund": "refund money back return broken damaged item want my",
    "weather": "weather rain sunny forecast tomorrow cold hot Zürich 東京 naïve",
}


def texts_and_labels(*, classes: int = 4, per_class: int = 40, seed: int = 0) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, words in list(INTENTS.items())[:classes]:
        vocabulary = words.split()
        for _ in range(per_class):
            picked = rng.choice(vocabulary, size=int(rng.integers(1, 9)))
            texts.append(" ".join(picked).capitalize() + rng.choice(["", "!", "?", " :)"]))
            labels.append(label)
    return texts, labels


def fit_text(vectorizer: Any, *, classifier: Any = None, classes: int = 4) -> Pipeline:
    texts, labels = texts_and_labels(classes=classes)
    head = classifier if classifier is not None else LogisticRegression(max_iter=1000)
    return Pipeline([("vectorizer", vectorizer), ("classifier", head)]).fit(texts, labels)


def hostile_texts() -> list[str]:
    """Inputs a user would throw at a text model: empty, unicode, unknown, very long, odd."""
    known = " ".join(INTENTS.values())
    return [
        "",
        " ",
        "\n\t ",
        "?!.,;",
        "zzz qwerty unknownword",
        "HELLO THERE",
        "naïve café in Zürich 東京 😀",
        "naive cafe in Zurich",
        "refund refund refund refund broken",
        "order a pizza and a coffee please, extra cheese",
        known * 200,
        "x" * 10_000,
        "hello\x00world",
    ]
