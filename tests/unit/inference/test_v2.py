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
                "data": [["I'll have sushi for two."], ["I'm so delighted after a great workout"]],
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
    plain = httpx.post(
        f"{pod.url}/predict", json={"inputs": [t[0] for t in body["inputs"][0]["data"]]}
    ).json()["predictions"]
    assert outputs["label"]["data"] == [p["label"] for p in plain], (outputs, plain)
    assert set(outputs["label"]["data"]) <= models.TEXT_LABELS, outputs
    assert outputs["label"]["shape"] == [2] and outputs["label"]["datatype"] == "BYTES"
    assert all(0.5 < c <= 1.0 for c in outputs["confidence"]["data"]), outputs["confidence"]
    assert response.headers["X-Model-Version"] == published.version


def test_numeric_infer_round_trip_with_a_forest(make_pod: MakePod, root: Path) -> None:
    published = models.publish_forest(root)
    models.write_routing(root, published, generation=1)
    pod = make_pod()
    rows = [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]
    tensor = {"name": "features", "shape": [2, 4], "datatype": "FP32", "data": rows}
    response = httpx.post(f"{pod.url}/v2/models/intent/infer", json={"inputs": [tensor]})
    assert response.status_code == 200, response.text
    labels = response.json()["outputs"][0]["data"]
    assert labels == ["setosa", "virginica"], f"expected setosa, virginica; saw {labels}"
    wrong = httpx.post(
        f"{pod.url}/v2/models/intent/infer", json={"inputs": [tensor | {"datatype": "BYTES"}]}
    )
    assert wrong.status_code == 400 and "FP32 or FP64" in wrong.json()["error"]
    narrow = tensor | {"shape": [4, 2]}
    refused = httpx.post(f"{pod.url}/v2/models/intent/infer", json={"inputs": [narrow]})
    assert refused.status_code == 400 and "[N, 4]" in refused.json()["error"], refused.text
    plain = httpx.post(f"{pod.url}/predict", json={"input": rows[4:]})
    assert plain.json()["label"] == "virginica", plain.text


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
