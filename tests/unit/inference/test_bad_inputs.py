"""Bad inputs get a 4xx naming the problem and the fix; the server stays up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from . import models, pods

LIMITS = {"max_body_bytes": 4096, "max_batch": 4, "max_text_chars": 50}
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def pod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pods.Pod]:
    root = tmp_path_factory.mktemp("volume")
    models.write_routing(root, models.publish_text(root), generation=1)
    pod = pods.Pod(pods.pod_settings(root, **LIMITS)).start()
    pod.wait_ready()
    yield pod
    pod.stop()


def text_tensor(**fields: Any) -> dict[str, Any]:
    return {
        "inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["hi"]} | fields]
    }


PREDICT_CASES = [
    (b"{not json", "body", "not valid JSON"),
    (b"", "body", "empty"),
    (b"[1, 2]", "body", "JSON object"),
    (b'{"text": "hi"}', "input", "exactly one of"),
    (b'{"input": "a", "inputs": ["b"]}', "input", "exactly one of"),
    (b'{"input": 42}', "input", "must be a string"),
    (b'{"input": null}', "input", "got null"),
    (b'{"input": "   "}', "input", "is empty"),
    (b'{"input": "' + b"x" * 51 + b'"}', "input", "the limit is 50"),
    (b'{"inputs": "hi"}', "inputs", "must be a list"),
    (b'{"inputs": []}', "inputs", "is empty"),
    (b'{"inputs": ["a", "b", "c", "d", "e"]}', "inputs", "the limit is 4"),
    (b'{"inputs": ["a", 3]}', "inputs[1]", "must be a string"),
    (b'{"input": "\xff\xfe"}', "body", "not valid JSON"),
]


@pytest.mark.parametrize(("raw", "field", "words"), PREDICT_CASES)
def test_bad_predict_bodies_are_400_naming_the_field(
    pod: pods.Pod, raw: bytes, field: str, words: str
) -> None:
    response = httpx.post(f"{pod.url}/predict", content=raw, headers=JSON)
    assert response.status_code == 400, f"expected 400 for {raw!r}, saw {response.status_code}"
    body = response.json()
    assert body["field"] == field, f"expected field {field}, saw {body}"
    assert words in body["message"], f"expected {words!r} in {body['message']!r}"
    assert response.headers["X-Model-Version"], "expected the routed version on an error"


def test_an_oversized_body_is_413_and_the_server_stays_up(pod: pods.Pod) -> None:
    raw = b'{"input": "' + b"a" * 5000 + b'"}'
    response = httpx.post(f"{pod.url}/predict", content=raw, headers=JSON)
    assert response.status_code == 413, f"expected 413, saw {response.status_code}"
    assert "the limit is 4096" in response.json()["message"]
    chunks = iter([b'{"input": "', b"a" * 5000, b'"}'])
    chunked = httpx.post(f"{pod.url}/predict", content=chunks, headers=JSON)
    assert chunked.status_code == 413, f"expected 413 without Content-Length, saw {chunked}"
    ok = httpx.post(f"{pod.url}/predict", json={"input": "refund please"})
    assert ok.status_code == 200, "expected the server to answer after refusals"


V2_CASES = [
    (text_tensor(datatype="FP32"), "inputs[0].datatype"),
    (text_tensor(shape=[2]), "inputs[0].data"),
    (text_tensor(shape=[1, 2], data=["a", "b"]), "inputs[0].shape"),
    (text_tensor(shape="1"), "inputs[0].shape"),
    (text_tensor(shape=[-1]), "inputs[0].shape"),
    (text_tensor(shape=[0], data=[]), "inputs[0].shape"),
    (text_tensor(data="hi"), "inputs[0].data"),
    (text_tensor(data=[3]), "inputs[0].data[0]"),
    (text_tensor(shape=[5], data=["a"] * 5), "inputs[0].shape"),
    ({"inputs": []}, "inputs"),
    ({"inputs": [text_tensor()["inputs"][0]] * 2}, "inputs"),
    ({"outputs": []}, "inputs"),
]


@pytest.mark.parametrize(("body", "field"), V2_CASES)
def test_bad_v2_requests_are_400_naming_the_field(
    pod: pods.Pod, body: dict[str, Any], field: str
) -> None:
    response = httpx.post(f"{pod.url}/v2/models/intent/infer", json=body)
    assert response.status_code == 400, f"expected 400 for {body}, saw {response.status_code}"
    message = response.json()["error"]
    assert message.startswith(field + ":"), f"expected {field} named, saw {message!r}"


def test_unknown_model_and_path_are_404(pod: pods.Pod) -> None:
    infer = httpx.post(f"{pod.url}/v2/models/other/infer", json=text_tensor())
    assert infer.status_code == 404 and "other" in infer.json()["error"]
    assert httpx.get(f"{pod.url}/nope").status_code == 404
    assert httpx.get(f"{pod.url}/predict").status_code == 405
