"""The Prometheus source of the analysis: the window's sums per arm, from the pods' series.

For fleets where the operator should not dial every pod: one instant query per signal,
`sum by (version, arm[, label]) (increase(<series>{model="<model>"}[<window>s]))`, which
Prometheus sums over pods and across restarts itself. `increase` extrapolates, so counts are
rounded. A query that fails is reported, never read as zeros: missing data is never a failure.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hotswap_operator.statuses import Counts, Pair

TIMEOUT_SECONDS = 5.0
MAX_ANSWER_BYTES = 8 << 20
ANSWERED = 'code=~"2..|5.."'
FAILED = 'code=~"5.."'


class SourceError(Exception):
    """Prometheus could not be read; the message says what to check."""


@dataclass(frozen=True)
class Arms:
    """The (version id, arm) of each side of the window."""

    stable: str
    canary: str


Fetch = Callable[[str], list[dict[str, Any]]]


def read_totals(url: str, model: str, arms: Arms, *, seconds: int) -> Pair:
    """The window's counts per arm over the last `seconds` (at least one scrape interval)."""
    return totals_from(lambda query: instant_query(url, query), model, arms, seconds=seconds)


def totals_from(fetch: Fetch, model: str, arms: Arms, *, seconds: int) -> Pair:
    window = f"[{max(seconds, 1)}s]"
    where = f'model="{model}"'

    def sums(series: str, extra: str = "", by: str = "version, arm") -> list[dict[str, Any]]:
        selector = f"{{{where}{', ' + extra if extra else ''}}}"
        return fetch(f"sum by ({by}) (increase({series}{selector}{window}))")

    found = {
        "requests": sums("hotswap_inference_requests_total", ANSWERED),
        "errors": sums("hotswap_inference_requests_total", FAILED),
        "slow": sums("hotswap_inference_slow_requests_total"),
        "feedback_count": sums("hotswap_feedback_reward_ratio_count"),
        "feedback_sum": sums("hotswap_feedback_reward_ratio_sum"),
        "feedback_sum_squares": sums("hotswap_feedback_reward_squares_total"),
    }
    labels = sums("hotswap_inference_predicted_labels_total", by="version, arm, label")
    return Pair(
        stable=counts_for(found, labels, arms.stable, "stable"),
        canary=counts_for(found, labels, arms.canary, "canary"),
    )


def counts_for(
    found: dict[str, list[dict[str, Any]]], labels: list[dict[str, Any]], version: str, arm: str
) -> Counts:
    def value(rows: list[dict[str, Any]]) -> float:
        return sum(sample_value(r) for r in rows if matches(r, version, arm))

    per_label = {
        str(r["metric"].get("label", "")): round(sample_value(r))
        for r in labels
        if matches(r, version, arm)
    }
    return Counts(
        requests=round(value(found["requests"])),
        errors=round(value(found["errors"])),
        slow=round(value(found["slow"])),
        feedback_count=round(value(found["feedback_count"])),
        feedback_sum=value(found["feedback_sum"]),
        feedback_sum_squares=value(found["feedback_sum_squares"]),
        labels={label: count for label, count in per_label.items() if count},
    )


def matches(row: dict[str, Any], version: str, arm: str) -> bool:
    metric = row.get("metric") or {}
    return bool(metric.get("version") == version and metric.get("arm") == arm)


def sample_value(row: dict[str, Any]) -> float:
    try:
        value = float(row["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return 0.0
    return value if math.isfinite(value) and value > 0 else 0.0


def instant_query(url: str, query: str) -> list[dict[str, Any]]:
    """The result vector of one instant query (GET /api/v1/query)."""
    address = f"{url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    try:
        with urllib.request.urlopen(address, timeout=TIMEOUT_SECONDS) as response:
            body = json.loads(response.read(MAX_ANSWER_BYTES))
    except (OSError, ValueError) as exc:
        raise SourceError(f"Prometheus at {url} did not answer {query!r}: {exc}") from exc
    data = body.get("data") if isinstance(body, dict) else None
    if body.get("status") != "success" or not isinstance(data, dict):
        raise SourceError(f"Prometheus at {url} refused {query!r}: {body.get('error', body)}")
    result = data.get("result")
    return result if isinstance(result, list) else []
