"""The live page of one process: `GET /status` (JSON) and `/static/monitoring.html` (port 8000).

Read-only and cheap: built when asked from the serving state, the tallies and the Prometheus
metrics the service already keeps, so nothing is added to the prediction path. Digests are cut
to a short prefix; no token, key, path or load-failure reason is shown (those stay on the
admin port).
"""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.samples import Sample
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hotswap.store.reports import ReloadFailure
from hotswap.store.routes import Arm
from hotswap_inference import endpoints
from hotswap_inference.metrics import LATENCY_BUCKETS, Metrics
from hotswap_inference.services import Service
from hotswap_inference.signals import Tallies, cumulative

STATIC_DIR = Path(__file__).parent / "static"
DIGEST_CHARS = len("sha256:") + 12
QUANTILES = {"p50Ms": 0.5, "p99Ms": 0.99}


def status_of(service: Service) -> dict[str, Any]:
    state = service.reloader.state
    routing = state.routing if state else None
    return {
        "model": service.model,
        "instance": socket.gethostname(),
        "ready": state is not None,
        "generation": routing.generation if routing else None,
        "source": state.source if state else None,
        "stable": short_arm(routing.stable) if routing else None,
        "canary": short_arm(routing.canary) if routing and routing.canary else None,
        "weight": routing.weight if routing else 0,
        "stickyHeader": routing.sticky_header if routing else None,
        "mirrorPercent": routing.mirror_percent if routing else 0,
        "traffic": traffic_of(service.tallies),
        "reloads": reloads_of(service.metrics, service.model),
        "lastError": short_error(service.reloader.last_error),
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }


def short_arm(arm: Arm) -> dict[str, str]:
    return {"version": arm.version, "digest": arm.digest[:DIGEST_CHARS]}


def short_error(error: ReloadFailure | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {key: getattr(error, key) for key in ("error", "version", "generation", "time")}


def samples_of(metric: MetricWrapperBase, model: str, suffix: str) -> Iterator[Sample]:
    for family in metric.collect():
        for sample in family.samples:
            if sample.name.endswith(suffix) and sample.labels.get("model") == model:
                yield sample


def traffic_of(tallies: Tallies) -> list[dict[str, Any]]:
    """One row per (version, arm) ever routed: requests, 5xx errors, latency quantiles."""
    rows = []
    for tally in tallies.arms():
        if not tally.assigned:
            continue  # feedback only
        _, errors = tally.counted()
        requests = sum(dict(tally.codes).values())  # every answer, 4xx included
        row = {"version": tally.version, "arm": tally.arm, "requests": requests, "errors": errors}
        latency = cumulative(LATENCY_BUCKETS, tally.latency)
        rows.append(row | {name: quantile_ms(q, latency) for name, q in QUANTILES.items()})
    return rows


def quantile_ms(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile: linear within the bucket holding rank q; in ms."""
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return None
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= q * total:
            if math.isinf(upper):
                return round(lower * 1000, 3)
            share = (q * total - below) / (count - below) if count > below else 1.0
            return round((lower + (upper - lower) * share) * 1000, 3)
        lower, below = upper, count
    return round(lower * 1000, 3)


def reloads_of(metrics: Metrics, model: str) -> dict[str, int]:
    """Reload attempts by outcome (applied, noop, stale, load_failed, ...)."""
    samples = samples_of(metrics.reloads, model, "_total")
    return {sample.labels["outcome"]: int(sample.value) for sample in samples}


async def status(request: Request) -> Response:
    body = status_of(endpoints.service_of(request))
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


ROUTES = [
    Route("/status", status),
    Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
]
