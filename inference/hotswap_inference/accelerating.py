"""Builds the predictor a loaded version serves with: a verified fast path, else sklearn.

Called at every load (so every reload checks again). The fast predictor must agree with the
plain pipeline on the version's stored samples and on probes made from the model; if it
cannot be built, disagrees, or comparing the two raises, sklearn serves and the reason is
returned and logged. A reason reads "<kind>: <detail>", with a kind from `FALLBACK_KINDS`
(bounded, fit for a metric label).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hotswap.store.loading import LoadedVersion
from hotswap_inference.predictors import Predictor, SklearnPredictor, Unsupported

log = logging.getLogger(__name__)

FALLBACK_KINDS = ("unsupported", "unavailable", "failed", "disagrees")


def build_predictor(loaded: LoadedVersion) -> tuple[Predictor, str | None]:
    """The predictor for `loaded`, and why the fast path was not used (None when it was)."""
    reference = SklearnPredictor(loaded.estimator)
    fast, reason = _verified(loaded, reference)
    name = f"{loaded.model}/{loaded.version}"
    if fast is None:
        log.warning("model %s serves through plain sklearn: %s", name, reason)
        return reference, reason
    log.info("model %s serves through the %s fast path (verified)", name, fast.kind)
    return fast, None


def fallback_kind(reason: str) -> str:
    """The bounded kind of a fallback reason, for a metric label."""
    kind = reason.split(":", 1)[0]
    return kind if kind in FALLBACK_KINDS else "failed"


def _verified(loaded: LoadedVersion, reference: SklearnPredictor) -> tuple[Any, str | None]:
    try:
        from hotswap_inference.fastpaths import verifying

        fast, probes = _compiled(loaded.estimator)
    except Unsupported as error:
        return None, f"unsupported: {error}"
    except ImportError as error:
        return None, f"unavailable: {error}"
    except Exception as error:  # a fast path that cannot even be built must not stop a load
        return None, f"failed: building the fast path raised {_described(error)}"
    if not loaded.samples:
        log.warning("version %s has no stored samples: verifying on probes only", loaded.version)
    try:
        disagreement = verifying.find_disagreement(fast, reference, list(loaded.samples) + probes)
    except Exception as error:  # a comparison that cannot be made proves nothing: sklearn serves
        return None, f"failed: comparing the fast path with sklearn raised {_described(error)}"
    return (None, f"disagrees: {disagreement}") if disagreement else (fast, None)


def _described(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _compiled(estimator: Any) -> tuple[Any, list[Any]]:
    compile_fast = _compiler(estimator)
    fast = compile_fast(estimator)
    return fast, _probes(fast)


def _compiler(estimator: Any) -> Callable[[Any], Any]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline

    from hotswap_inference.fastpaths import forests, linear_text

    if isinstance(estimator, Pipeline):
        return linear_text.compile_pipeline
    if isinstance(estimator, RandomForestClassifier):
        return forests.compile_forest
    raise Unsupported(
        f"estimator {type(estimator).__name__} (fast paths: a Pipeline of Count/Tfidf "
        "vectorizer and LogisticRegression, or a RandomForestClassifier)"
    )


def _probes(fast: Any) -> list[Any]:
    from hotswap_inference.fastpaths import forests, linear_text, probes

    if isinstance(fast, linear_text.LinearTextPredictor):
        return probes.text_probes(fast.features)
    if isinstance(fast, forests.ForestPredictor):
        return probes.forest_probes(fast.forest)
    return []
