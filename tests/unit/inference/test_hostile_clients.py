"""Requests as a hostile client sends them: each a 4xx in the usual shape, counted, no traceback.

Before: overflowing floats were a 500 `prediction_failed` counted against the version; NaN
shapes, 400-digit integers and deep JSON a plain-text 500; a disconnect mid-body a traceback;
wrong API keys unlimited; X-Forwarded-For believed from 127.0.0.1; any Content-Type taken.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hotswap_inference import administering
from hotswap_inference.errors import InvalidRouting

from . import models, pods
from .conftest import MakePod

JSON = {"Content-Type": "application/json"}
INFER = "/v2/models/intent/infer"
PYTHON_WORDS = ("sys.", "__init__", "Error", "Traceback", "int_max_str_digits")


@pytest.fixture(scope="module")
def forest_pod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pods.Pod]:
    """A numeric (random forest, 4 features) version: float32 inside, as sklearn's trees."""
    root = tmp_path_factory.mktemp("volume")
    models.write_routing(root, models.publish_forest(root), generation=1)
    pod = pods.Pod(pods.pod_settings(root)).start()
    pod.wait_ready()
    yield pod
    pod.stop()


def tensor(datatype: str, shape: Any, data: Any) -> str:
    body = {"inputs": [{"name": "x", "datatype": datatype, "shape": shape, "data": data}]}
    return json.dumps(body, allow_nan=True)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


BIG = "9" * 400
UNPREDICTABLE = [  # (path, raw body, the field the 400 names)
    (INFER, tensor("FP32", [1, 4], [1e39, 1, 1, 1]), "inputs[0].data[0][0]"),
    (INFER, tensor("FP64", [1, 4], [1, 1e308, 1, 1]), "inputs[0].data[0][1]"),
    (INFER, tensor("FP32", [float("nan")], [1, 1, 1, 1]), "inputs[0].shape"),
    (INFER, tensor("FP32", [float("inf")], [1, 1, 1, 1]), "inputs[0].shape"),
    (
        INFER,
        tensor("FP32", [1, 4], [1, 1, 1, 1]).replace("[1, 4]", f"[{BIG}, 4]"),
        "inputs[0].shape",
    ),
    (INFER, tensor("FP32", [4], [1, 1, 1, 1]).replace("[1, 1, 1, 1]", nested(1000)), "body"),
    ("/predict", '{"input": [1e39, 1, 1, 1]}', "input[0]"),
    ("/predict", '{"input": [1, 1, -1e308, 1]}', "input[2]"),
    ("/predict", '{"input": [1, NaN, 1, 1]}', "input[1]"),
    ("/predict", '{"inputs": [[1, 1, 1, 1], [1, 1, 1, Infinity]]}', "inputs[1][3]"),
    ("/predict", f'{{"input": [{BIG}, 1, 1, 1]}}', "input[0]"),
    ("/predict", f'{{"input": [{"9" * 5000}, 1, 1, 1]}}', "body"),
    ("/predict", nested(1000), "body"),
    ("/predict", '{"input": ' + nested(32) + "}", "body"),  # 33 deep
]


def field_of(path: str, response: httpx.Response) -> str:
    body = response.json()
    if path == INFER:  # V2: {"error": "<field>: <message>", "code": ...}
        return str(body["error"]).split(":")[0]
    return str(body["field"])


def message_of(response: httpx.Response) -> str:
    body = response.json()
    return str(body.get("message", body["error"]))


def requests_total(pod: pods.Pod, code: str) -> float:
    return sum(
        sample.value
        for metric in pod.registry.collect()
        if metric.name == "hotswap_inference_requests"
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("code") == code
    )


@pytest.mark.parametrize(("path", "raw", "field"), UNPREDICTABLE)
def test_input_that_cannot_be_predicted_is_a_counted_400(
    forest_pod: pods.Pod, path: str, raw: str, field: str
) -> None:
    before = requests_total(forest_pod, "400"), requests_total(forest_pod, "500")
    response = httpx.post(f"{forest_pod.url}{path}", content=raw, headers=JSON)
    assert response.status_code == 400, f"expected 400, saw {response.status_code} {response.text}"
    assert field_of(path, response) == field, f"expected {field} named: {response.text}"
    assert response.headers.get("X-Request-Id"), "expected X-Request-Id on the error"
    assert response.headers.get("X-Model-Version"), "expected the routed version on the error"
    message = message_of(response)
    assert not any(word in message for word in PYTHON_WORDS), f"Python internals: {message}"
    after = requests_total(forest_pod, "400"), requests_total(forest_pod, "500")
    assert after == (before[0] + 1, before[1]), f"expected one more 400, no 500: {before}->{after}"


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        (INFER, tensor("FP32", [1, 4], [3.4e38, -3.4e38, 1, 1])),  # float32's edge: predicted
        (INFER, tensor("FP32", [4.0], [1, 1, 1, 1])),  # a whole-number float shape
        ("/predict", '{"input": [1e-300, 5, 1, 1]}'),
        ("/predict", '{"inputs": [[1, 2, 3, 4]], "pad": ' + nested(31) + "}"),  # 32 deep
    ],
)
def test_input_at_the_limits_is_predicted(forest_pod: pods.Pod, path: str, raw: str) -> None:
    response = httpx.post(f"{forest_pod.url}{path}", content=raw, headers=JSON)
    assert response.status_code == 200, f"expected 200, saw {response.status_code} {response.text}"


def admin_reload(pod: pods.Pod, raw: bytes, headers: dict[str, str]) -> httpx.Response:
    auth = {"Authorization": f"Bearer {pods.TOKEN}"}
    return httpx.post(f"{pod.admin_url}/admin/reload", content=raw, headers=auth | headers)


def test_deep_json_is_a_400_on_feedback_and_on_the_admin_port(forest_pod: pods.Pod) -> None:
    feedback = httpx.post(f"{forest_pod.url}/feedback", content=nested(1000), headers=JSON)
    admin = admin_reload(forest_pod, nested(1000).encode(), JSON)
    for response in (feedback, admin):
        assert response.status_code == 400, f"expected 400, saw {response} {response.text}"
        assert response.json()["field"] == "body"
        assert "more than 32 levels deep" in response.json()["message"]


CONTENT_TYPES = [
    ("text/plain", 415),
    ("application/x-www-form-urlencoded", 415),
    (None, 415),
    ("application/json; charset=latin-1", 415),
    ("application/json", 200),
    ("Application/JSON; charset=UTF-8", 200),
]


@pytest.mark.parametrize(("kind", "status"), CONTENT_TYPES)
def test_only_json_bodies_are_read(forest_pod: pods.Pod, kind: str | None, status: int) -> None:
    headers = {"Content-Type": kind} if kind else {}
    raw = b'{"input": [5.1, 3.5, 1.4, 0.2]}'
    response = httpx.post(f"{forest_pod.url}/predict", content=raw, headers=headers)
    assert response.status_code == status, f"{kind}: expected {status}, saw {response.text}"
    if status == 415:
        body = response.json()
        assert body["field"] == "Content-Type", body
        assert "Content-Type: application/json" in body["message"], body


def test_415_on_v2_feedback_and_the_admin_port(forest_pod: pods.Pod) -> None:
    plain = {"Content-Type": "text/plain"}
    infer = httpx.post(
        f"{forest_pod.url}{INFER}", content=tensor("FP32", [4], [1] * 4), headers=plain
    )
    feedback = httpx.post(f"{forest_pod.url}/feedback", content=b"{}", headers=plain)
    admin = admin_reload(forest_pod, b"{}", plain)
    for response in (infer, feedback, admin):
        assert response.status_code == 415, f"expected 415, saw {response} {response.text}"
        assert "application/json" in response.text


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_client_gone_mid_body_is_one_log_line_and_counted_499(forest_pod: pods.Pod) -> None:
    records = Records()
    watched = [logging.getLogger(name) for name in ("uvicorn.error", "hotswap_inference")]
    for logger in watched:
        logger.addHandler(records)
    host, port = forest_pod.url.removeprefix("http://").split(":")
    before = requests_total(forest_pod, "499")
    try:
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            head = "POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            sock.sendall(head.encode() + b"Content-Length: 1000\r\n\r\n" + b'{"input": [5.1')
            time.sleep(0.2)
        forest_pod.wait_for(lambda: requests_total(forest_pod, "499") == before + 1, "a 499")
        time.sleep(0.2)  # a traceback would be logged by now
    finally:
        for logger in watched:
            logger.removeHandler(records)
    lines = [r for r in records.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, f"expected one line, saw {[r.getMessage() for r in lines]}"
    assert lines[0].exc_info is None, "expected no traceback"
    assert "closed the connection after 14 bytes" in lines[0].getMessage(), lines[0].getMessage()


def client_from(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address))


def test_wrong_api_keys_are_limited_per_client_address(make_pod: MakePod, root: Path) -> None:
    models.write_routing(root, models.publish_text(root), generation=1)
    pod = make_pod(api_keys=("right-key",), key_failures_per_minute=3)
    url, body = f"{pod.url}/predict", {"input": "refund"}
    wrong, right = {"X-API-Key": "guess"}, {"X-API-Key": "right-key"}
    with client_from("127.0.0.1") as guesser, client_from("127.0.0.2") as other:
        codes = [guesser.post(url, json=body, headers=wrong).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429], f"expected 3 guesses, then 429: {codes}"
        locked = guesser.post(url, json=body, headers=right)
        assert locked.status_code == 429, "expected the guessing address refused, right key too"
        assert 1 <= int(locked.headers["Retry-After"]) <= 20, locked.headers
        assert "too many wrong API keys" in locked.json()["message"], locked.text
        assert other.post(url, json=body, headers=right).status_code == 200, "other address"
        assert other.post(url, json=body).status_code == 401, "a missing key is no guess"


@pytest.mark.parametrize(("trusted", "second"), [((), 429), (("127.0.0.1",), 200)])
def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    make_pod: MakePod, root: Path, trusted: tuple[str, ...], second: int
) -> None:
    models.write_routing(root, models.publish_text(root), generation=1)
    pod = make_pod(rate_limit=0.01, rate_burst=1, trusted_proxies=trusted)  # per address
    url, body = f"{pod.url}/predict", {"input": "refund"}
    first = httpx.post(url, json=body, headers={"X-Forwarded-For": "203.0.113.1"})
    other = httpx.post(url, json=body, headers={"X-Forwarded-For": "203.0.113.2"})
    assert first.status_code == 200, first.text
    assert other.status_code == second, f"trusted {trusted}: expected {second}, saw {other}"


def test_a_malformed_reload_names_no_python_internals(monkeypatch: pytest.MonkeyPatch) -> None:
    def python_error(body: Any) -> Any:
        raise TypeError("Arm.__init__() got an unexpected keyword argument 'foo'")

    monkeypatch.setattr(administering.Routing, "from_dict", python_error)
    with pytest.raises(InvalidRouting) as refused:
        administering.parse_reload({"model": "intent", "stable": {"foo": 1}}, "intent")
    assert "__init__" not in refused.value.message, refused.value.message
    assert "Routing.to_dict()" in refused.value.message, refused.value.message
