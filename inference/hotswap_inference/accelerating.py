"""Builds the predictor a loaded version serves with: a verified fast path, else sklearn.

Called at every load. The fast predictor must agree with the plain pipeline on the version's
stored samples and on probes made from the model; if it cannot be built, disagrees, or
comparing the two raises, sklearn serves and the reason is returned and logged. A process
checks a version once: `Verified` remembers the digests whose fast path agreed, and a
version loaded again (a rollback, a canary promoted to stable) is built but not compared
again; its bytes were checked against the digest before unpickling, and the same bytes build
the same fast path. A reason reads "<kind>: <detail>", with a kind from `FALLBACK_KINDS`
(bounded, fit for a metric label).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from hotswap.store.loading import LoadedVersion
from hotswap_inference.predictors import Predictor, SklearnPredictor, Unsupported

log = logging.getLogger(__name__)

FALLBACK_KINDS = ("unsupported", "unavailable", "failed", "disagrees")
VERIFIED_DIGESTS = 64  # a process remembers this many verified versions, the newest


class Verified:
    """The digests (with the fast path's kind) whose fast path agreed with sklearn in this
    process, the `size` newest. Only agreement is remembered: a fallback is checked again."""

    def __init__(self, size: int = VERIFIED_DIGESTS) -> None:
        self.size = size
        self._kinds: OrderedDict[str, str] = OrderedDict()

    def __contains__(self, key: tuple[str, str]) -> bool:
        digest, kind = key
        return self._kinds.get(digest) == kind

    def knows(self, digest: str) -> bool:
        """A fast path of this digest agreed already: loading it again compares nothing."""
        return digest in self._kinds

    def add(self, digest: str, kind: str) -> None:
        self._kinds[digest] = kind
        self._kinds.move_to_end(digest)
        while len(self._kinds) > self.size:
            self._kinds.popitem(last=False)


def build_predictor(
    loaded: LoadedVersion, *, verified: Verified | None = None
) -> tuple[Predictor, str | None]:
    """The predictor for `loaded`, and why the fast path was not used (None when it was).
    With `verified`, a digest in it is not compared again, and one that agrees is added."""
    reference = SklearnPredictor(loaded.estimator)
    fast, reason = _verified(loaded, reference, verified)
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


def _verified(
    loaded: LoadedVersion, reference: SklearnPredictor, verified: Verified | None
) -> tuple[Any, str | None]:
    try:
        fast = _compiler(loaded.estimator)(loaded.estimator)
    except Unsupported as error:
        return None, f"unsupported: {error}"
    except ImportError as error:
        return None, f"unavailable: {error}"
    except Exception as error:  # a fast path that cannot even be built must not stop a load
        return None, f"failed: building the fast path raised {_described(error)}"
    if verified is not None and (loaded.digest, fast.kind) in verified:
        return fast, None
    reason = _compared(loaded, fast, reference)
    if reason is None and verified is not None:
        verified.add(loaded.digest, fast.kind)
    return (None, reason) if reason else (fast, None)


def _compared(loaded: LoadedVersion, fast: Any, reference: SklearnPredictor) -> str | None:
    """Why `fast` may not serve `loaded` (compared with sklearn), or None."""
    from hotswap_inference.fastpaths import verifying

    if not loaded.samples:
        log.warning("version %s has no stored samples: verifying on probes only", loaded.version)
    try:
        probes = _probes(fast)
        disagreement = verifying.find_disagreement(fast, reference, list(loaded.samples) + probes)
    except Exception as error:  # a comparison that cannot be made proves nothing: sklearn serves
        return f"failed: comparing the fast path with sklearn raised {_described(error)}"
    return f"disagrees: {disagreement}" if disagreement else None


def _described(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


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
