"""Optional API keys and per-client rate limit on the serving endpoints."""

from __future__ import annotations

from pathlib import Path

import httpx

from . import models
from .conftest import MakePod


def test_api_keys_from_a_file_guard_predict_but_not_probes(
    make_pod: MakePod, root: Path, tmp_path: Path
) -> None:
    models.write_routing(root, models.publish_text(root), generation=1)
    keys = tmp_path / "keys"
    keys.write_text("# clients\nkey-one\n\nkey-two\n")
    pod = make_pod(api_keys_file=keys)
    url = f"{pod.url}/predict"
    body = {"input": "refund"}
    assert httpx.post(url, json=body).status_code == 401, "expected 401 without a key"
    assert httpx.post(url, json=body, headers={"X-API-Key": "nope"}).status_code == 401
    assert httpx.post(url, json=body, headers={"X-API-Key": "key-two"}).status_code == 200
    bearer = {"Authorization": "Bearer key-one"}
    assert httpx.post(url, json=body, headers=bearer).status_code == 200
    infer = httpx.post(f"{pod.url}/v2/models/intent/infer", json={"inputs": []})
    assert infer.status_code == 401, f"expected V2 infer guarded, saw {infer.status_code}"
    for probe in ("/healthz", "/readyz", "/v2/health/ready"):
        assert httpx.get(f"{pod.url}{probe}").status_code == 200, f"expected {probe} open"


def test_rate_limit_answers_429_with_retry_after(make_pod: MakePod, root: Path) -> None:
    models.write_routing(root, models.publish_text(root), generation=1)
    pod = make_pod(rate_limit=0.5, rate_burst=3)
    codes = [httpx.post(f"{pod.url}/predict", json={"input": "refund"}) for _ in range(5)]
    statuses = [r.status_code for r in codes]
    assert statuses[:3] == [200] * 3, f"expected the burst of 3 to pass, saw {statuses}"
    assert statuses[3:] == [429, 429], f"expected 429 past the burst, saw {statuses}"
    assert int(codes[-1].headers["Retry-After"]) >= 1, codes[-1].headers
    assert codes[-1].json()["error"] == "rate_limited"
