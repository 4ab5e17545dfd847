"""Where predictions run: sklearn never on the event loop; a small fast-path request on it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from hotswap_inference import accelerating, predicting, predictors
from hotswap_inference.fastpaths import linear_text

from hotswap.store import loading

from . import models
from .compiled import skip_if_compiled
from .conftest import MakePod

TEXTS = ["I'll have sushi for two.", "I'm so delighted after a great workout", "hello there"]
Calls = list[tuple[int, int]]  # (thread id, number of inputs)


def record_calls(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> Calls:
    """Every call of `owner.name` from now on, as (thread id, number of inputs)."""
    skip_if_compiled(owner, name)
    calls: Calls = []
    real = getattr(owner, name)

    def recording(self: Any, inputs: Any) -> Any:
        calls.append((threading.get_ident(), len(inputs)))
        return real(self, inputs)

    monkeypatch.setattr(owner, name, recording)
    return calls


def send_predictions(url: str) -> None:
    """One text, a batch, and a V2 infer: each must answer 200."""
    bodies = [("/predict", {"input": TEXTS[0]}), ("/predict", {"inputs": TEXTS * 4})]
    tensor = {"name": "text", "shape": [2], "datatype": "BYTES", "data": TEXTS[:2]}
    bodies.append(("/v2/models/intent/infer", {"inputs": [tensor]}))
    for path, body in bodies:
        response = httpx.post(f"{url}{path}", json=body)
        assert response.status_code == 200, f"expected 200 from {path}, saw {response.text}"


def test_a_version_on_the_sklearn_path_never_predicts_on_the_event_loop(
    make_pod: MakePod, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def plain(loaded: loading.LoadedVersion, **_: Any) -> tuple[predictors.Predictor, str]:
        return predictors.SklearnPredictor(loaded.estimator), "unsupported: forced by the test"

    monkeypatch.setattr(accelerating, "build_predictor", plain)
    calls = record_calls(monkeypatch, predictors.SklearnPredictor, "predict")
    models.write_routing(root, models.publish_text(root), generation=1)
    pod = make_pod()
    send_predictions(pod.url)
    kinds = {v["kind"] for v in pod.admin("GET", "/admin/status").json()["predictors"].values()}
    assert kinds == {"sklearn"}, f"expected the sklearn path, saw {kinds}"
    threads = {thread for thread, _ in calls}
    assert len(calls) >= 4, f"expected warm-up and 3 requests through sklearn, saw {calls}"
    assert pod.loop_thread not in threads, f"sklearn ran on the event loop thread: {calls}"


def test_inputs_a_fast_path_hands_back_are_answered_by_sklearn_off_the_loop(
    make_pod: MakePod, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    skip_if_compiled(linear_text.LinearTextPredictor, "predict_own")
    monkeypatch.setattr(linear_text.LinearTextPredictor, "predict_own", lambda self, inputs: None)
    calls = record_calls(monkeypatch, predictors.SklearnPredictor, "predict")
    models.write_routing(root, models.publish_text(root), generation=1)
    pod = make_pod()
    before = len(calls)
    send_predictions(pod.url)
    during = calls[before:]
    assert len(during) == 3, f"expected sklearn to answer the 3 requests, saw {during}"
    assert pod.loop_thread not in {thread for thread, _ in during}, during


def test_the_fast_path_answers_small_requests_on_the_loop_and_agrees_with_sklearn(
    make_pod: MakePod, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_calls(monkeypatch, linear_text.LinearTextPredictor, "predict_own")
    published = models.publish_text(root)
    models.write_routing(root, published, generation=1)
    pod = make_pod()
    big = (TEXTS * predicting.MAX_INLINE_ITEMS)[: predicting.MAX_INLINE_ITEMS + 1]
    before = len(calls)
    one = httpx.post(f"{pod.url}/predict", json={"input": TEXTS[0]}).json()
    batch = httpx.post(f"{pod.url}/predict", json={"inputs": big}).json()["predictions"]
    (small_thread, _), (big_thread, big_count) = calls[before:]
    assert small_thread == pod.loop_thread, "expected one text answered on the event loop"
    assert (big_thread != pod.loop_thread, big_count) == (True, len(big)), calls[before:]
    estimator = loading.load_version(root, models.MODEL, published.version).estimator
    expected = predictors.SklearnPredictor(estimator).predict([TEXTS[0], *big])
    seen = [one, *batch]
    assert [s["label"] for s in seen] == expected.labels, (seen, expected.labels)
    gaps = [abs(s["confidence"] - c) for s, c in zip(seen, expected.confidences, strict=True)]
    assert max(gaps) <= 1e-6, f"expected sklearn's confidences within 1e-6, saw gaps {gaps}"
