"""The query log: JSON lines with the documented fields, nothing lost on close."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hotswap_inference import recording
from hotswap_inference.predictors import Predictions

FIELDS = ["request_id", "model", "model_version", "arm", "latency_ms", "label", "confidence", "ts"]


def predictions(*pairs: tuple[str, float]) -> Predictions:
    labels, confidences = [p[0] for p in pairs], [p[1] for p in pairs]
    return Predictions(labels, confidences, [[c] for c in confidences], sorted(set(labels)))


def parse(lines: str) -> list[dict[str, object]]:
    assert lines.endswith("\n"), f"expected whole lines, saw {lines!r}"
    return [json.loads(line) for line in lines.splitlines()]


def test_one_prediction_is_one_line_with_the_documented_fields() -> None:
    head = recording.query_head("intent", "20261128_142501_3f9c1a2b", "stable")
    [line] = parse(recording.query_lines(head, "r-1", predictions(("pizza", 0.87)), latency=0.0024))
    assert list(line) == FIELDS, f"expected fields {FIELDS} in order, saw {list(line)}"
    seen = {k: line[k] for k in FIELDS[:-1]}
    assert seen == {
        "request_id": "r-1",
        "model": "intent",
        "model_version": "20261128_142501_3f9c1a2b",
        "arm": "stable",
        "latency_ms": 2.4,
        "label": "pizza",
        "confidence": 0.87,
    }
    assert str(line["ts"]).endswith("+00:00"), line["ts"]


def test_a_batch_numbers_its_lines_and_a_shadow_says_so() -> None:
    head = recording.query_head("intent", "v1", "canary")
    batch = predictions(("a", 0.5), ("b", 0.1234567))
    lines = parse(recording.query_lines(head, "r-2", batch, latency=0.001, shadow=True))
    seen = [(x["index"], x["label"], x["shadow"]) for x in lines]
    assert seen == [(0, "a", True), (1, "b", True)], seen
    assert lines[1]["confidence"] == 0.123457, lines[1]


def test_any_request_id_and_label_stay_valid_json() -> None:
    odd = 'say "hi" \\ \u00e9\u4e2d \U0001f600'
    head = recording.query_head('in"tent', "v1", "stable")
    [line] = parse(recording.query_lines(head, odd, predictions((odd, 1.0)), latency=0.0))
    assert (line["request_id"], line["label"], line["model"]) == (odd, odd, 'in"tent'), line


def test_close_writes_every_buffered_line(tmp_path: Path) -> None:
    path = tmp_path / "queries.jsonl"
    log = recording.QueryLog(stdout=False, path=path, flush_seconds=60.0)
    head = recording.query_head("intent", "v1", "stable")
    for i in range(1000):
        log.write(recording.query_lines(head, f"r-{i}", predictions(("a", 0.5)), latency=0.0))
    log.close()
    ids = [line["request_id"] for line in parse(path.read_text())]
    assert ids == [f"r-{i}" for i in range(1000)], f"expected 1000 lines in order, saw {len(ids)}"


@pytest.mark.parametrize(
    "millis",
    [0, 999, 1_000, 1_764_641_400_123, 1_764_641_400_999, 1_764_641_401_000, 4_102_444_799_001],
)
def test_timestamps_read_as_isoformat_to_the_millisecond(millis: int) -> None:
    clock = recording.Clock()
    clock.at(millis - 1)  # a neighbour first: the cached second must not leak into the next
    moment = datetime.fromtimestamp(millis // 1000, UTC).replace(microsecond=millis % 1000 * 1000)
    assert clock.at(millis) == moment.isoformat(timespec="milliseconds")
    assert clock.at(millis) == clock.at(millis), "the cached text is the same text"


def reference_number(value: float, digits: int) -> str:
    """What `number` wrote before its fixed-point shortcut: repr of the rounded float."""
    rounded = round(float(value), digits)
    return repr(rounded) if math.isfinite(rounded) else "null"


EDGES = [0.0, -0.0, 0.5, 0.0005, 0.0015, 2.675, 1.0005, 0.1 + 0.2, 1 / 3, 2 / 3, 0.9999995,
         0.99999949, 1e-4, 9.9999995e-5, 1.00000049e-4, 0.00012, 999_999_999.9999,
         1e9, 4.5e12, 999_999_999_999_999.9, 1e16, 1e300, 5e-324, math.nan, math.inf,
         -math.inf]  # fmt: skip


@pytest.mark.parametrize("digits", [3, 6])
def test_numbers_are_written_as_repr_of_the_rounded_float(digits: int) -> None:
    """Halfway cases, both sides of the fixed-point range's bounds (1e-4, 1e9), exponents,
    NaN and infinities, then 200,000 random floats over every magnitude and sign."""
    rng = random.Random(13)
    randoms = [rng.uniform(0, 1) for _ in range(100_000)]
    randoms += [rng.choice((-1, 1)) * 10 ** rng.uniform(-8, 17) for _ in range(100_000)]
    for value in EDGES + [-v for v in EDGES] + randoms:
        assert recording.number(value, digits) == reference_number(value, digits), value
    fixed = [v for v in randoms if 1e-4 <= abs(v) < 1e9]
    assert len(fixed) > 50_000  # the shortcut's own range was exercised, not only the fallback
