"""Open Inference Protocol (V2): health, metadata and infer round trips, text and numeric."""

from __future__ import annotations

from pathlib import Path

import httpx

from . import models
from .conftest import MakePod


def test_text_infer_round_trip(make_pod: MakePod, root: Path) -> None:
    published = models.publish_text(root)
    models.write_routing(root, published, generation=1)
    pod = make_pod()
    body = {
        "id": "req-1",
        "inputs": [
            {
                "name": "text",
                "shape": [2, 1],
                "datatype": "BYTES",
                "data": [["where is my parcel"], ["i want my money back"]],
            }
        ],
    }
    response = httpx.post(f"{pod.url}/v2/models/intent/infer", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["model_name"], answer["model_version"], answer["id"]) == (
        "intent",
        published.version,
        "req-1",
    )
    outputs = {o["name"]: o for o in answer["outputs"]}
    assert outputs["label"]["data"] == ["shipping", "refund"], outputs
    assert outputs["label"]["shape"] == [2] and outputs["label"]["datatype"] == "BYTES"
    assert all(0.5 < c <= 1.0 for c in outputs["confidence"]["data"]), outputs["confidence"]
    assert response.headers["X-Model-Version"] == published.version


def test_numeric_infer_round_trip_with_a_forest(make_pod: MakePod, root: Path) -> None:
    published = models.publish_forest(root)
    models.write_routing(root, published, generation=1)
    pod = make_pod()
    tensor = {"name": "features", "shape": [2, 2], "datatype": "FP32", "data": [0, 0, 1, 1]}
    response = httpx.post(f"{pod.url}/v2/models/intent/infer", json={"inputs": [tensor]})
    assert response.status_code == 200, response.text
    labels = response.json()["outputs"][0]["data"]
    assert labels == ["low", "high"], f"expected ['low', 'high'], saw {labels}"
    wrong = httpx.post(
        f"{pod.url}/v2/models/intent/infer", json={"inputs": [tensor | {"datatype": "BYTES"}]}
    )
    assert wrong.status_code == 400 and "FP32 or FP64" in wrong.json()["error"]
    narrow = tensor | {"shape": [4, 1]}
    refused = httpx.post(f"{pod.url}/v2/models/intent/infer", json={"inputs": [narrow]})
    assert refused.status_code == 400 and "[N, 2]" in refused.json()["error"], refused.text
    plain = httpx.post(f"{pod.url}/predict", json={"input": [1.0, 1.0]})
    assert plain.json()["label"] == "high", plain.text


def test_health_and_metadata(make_pod: MakePod, root: Path) -> None:
    pod = make_pod(ready=False)
    assert httpx.get(f"{pod.url}/v2/health/live").json() == {"live": True}
    assert httpx.get(f"{pod.url}/v2/health/ready").status_code == 503
    assert httpx.get(f"{pod.url}/v2/models/intent/ready").status_code == 503
    published = models.publish_text(root)
    models.write_routing(root, published, generation=1)
    pod.wait_ready()
    assert httpx.get(f"{pod.url}/v2/health/ready").json() == {"ready": True}
    ready = httpx.get(f"{pod.url}/v2/models/intent/ready")
    assert ready.json() == {"name": "intent", "ready": True}
    meta = httpx.get(f"{pod.url}/v2/models/intent").json()
    assert meta["name"] == "intent" and meta["versions"] == [published.version], meta
    assert meta["inputs"][0]["datatype"] == "BYTES", meta
    assert httpx.get(f"{pod.url}/v2/models/other").status_code == 404
