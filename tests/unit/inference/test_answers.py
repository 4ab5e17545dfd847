"""Prediction answers are written by hand on the hot path: they read as JSONResponse's did."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from . import models, pods


@pytest.fixture(scope="module")
def pod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pods.Pod]:
    root = tmp_path_factory.mktemp("volume")
    models.write_routing(root, models.publish_text(root), generation=1)
    pod = pods.Pod(pods.pod_settings(root)).start()
    pod.wait_ready()
    yield pod
    pod.stop()


def as_json_response_writes(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/predict", {"input": "I would like a pizza"}),
        ("/predict", {"inputs": ["hi there", 'Ünïcödé 東京 "quoted" \\ text']}),
        (
            "/v2/models/intent/infer",
            {
                "inputs": [
                    {"name": "t", "shape": [1], "datatype": "BYTES", "data": ["refund please"]}
                ]
            },
        ),
    ],
)
def test_answers_are_compact_json_with_the_routing_headers(
    pod: pods.Pod, path: str, body: dict[str, Any]
) -> None:
    sent_id = "caller-id-Ä-42"
    response = httpx.post(
        f"{pod.url}{path}", json=body, headers=[(b"X-Request-Id", sent_id.encode("latin-1"))]
    )
    assert response.status_code == 200, response.text
    expected = as_json_response_writes(response.json())
    assert response.content == expected, f"expected {expected!r}, saw {response.content!r}"
    assert response.headers["content-type"] == "application/json", response.headers
    assert int(response.headers["content-length"]) == len(response.content), response.headers
    assert response.headers["X-Request-Id"] == sent_id, response.headers
    assert response.headers["X-Model-Arm"] == "stable", response.headers
    assert response.headers["X-Model-Version"], response.headers
    answer = response.json()
    token = answer.get("feedback_token") or answer["parameters"]["feedback_token"]
    assert response.headers["X-Feedback-Token"] == token, response.headers


def test_a_predict_answer_holds_every_field(pod: pods.Pod) -> None:
    single = httpx.post(f"{pod.url}/predict", json={"input": "hello"}).json()
    batch = httpx.post(f"{pod.url}/predict", json={"inputs": ["hello", "pizza"]}).json()
    head = ["model_version", "arm", "request_id", "feedback_token"]
    assert list(single) == [*head, "label", "confidence"], single
    assert list(batch) == [*head, "predictions"], batch
    assert [list(p) for p in batch["predictions"]] == [["label", "confidence"]] * 2, batch
    assert 0 < single["confidence"] <= 1, single
