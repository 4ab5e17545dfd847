"""The serving endpoints on port 8000: predict, feedback, health and readiness.

Endpoints are async: a verified fast path answers on the event loop, sklearn in the threadpool
(`predicting`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hotswap_inference import feedbacks, inputs
from hotswap_inference.errors import ARM_HEADER, VERSION_HEADER, ServiceError
from hotswap_inference.predictors import Predictions
from hotswap_inference.services import Call, Service


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def call_headers(call: Call) -> dict[str, str]:
    return {
        VERSION_HEADER: call.served.version,
        ARM_HEADER: call.arm,
        "X-Request-Id": call.request_id,
    }


async def run_call(
    request: Request, parse: Callable[[Call, Any], list[Any]]
) -> tuple[Call, Predictions]:
    """Route, read and check the body, predict; count a failure by its code."""
    service = service_of(request)
    call = service.route(request)
    try:
        body = await inputs.read_json(request, service.settings.limits)
        items = parse(call, body)
        predictions = await service.answer(call, items)
    except ServiceError as exc:
        service.count_failure(call, exc.status)
        raise
    return call, predictions


async def predict(request: Request) -> Response:
    limits = service_of(request).settings.limits
    batch = False

    def parse(call: Call, body: Any) -> list[Any]:
        nonlocal batch
        items, batch = inputs.parse_predict(body, call.served.inputs, limits)
        return items

    call, predictions = await run_call(request, parse)
    answers = [
        {"label": label, "confidence": confidence}
        for label, confidence in zip(predictions.labels, predictions.confidences, strict=True)
    ]
    body: dict[str, Any] = {
        "model_version": call.served.version,
        "arm": call.arm,
        "request_id": call.request_id,
    }
    body |= {"predictions": answers} if batch else answers[0]
    return JSONResponse(body, headers=call_headers(call))


async def feedback(request: Request) -> Response:
    service = service_of(request)
    service.guard.check(request)
    body = await inputs.read_json(request, service.settings.limits)
    parsed = feedbacks.parse_feedback(body)
    version, arm = service.record_feedback(parsed)
    answer = {"recorded": True, "request_id": parsed.request_id, "model_version": version}
    headers = {VERSION_HEADER: version, ARM_HEADER: arm}
    return JSONResponse(answer | {"arm": arm}, headers=headers)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "alive"})


async def readyz(request: Request) -> Response:
    state = service_of(request).reloader.state
    if state is None:
        return JSONResponse({"status": "not_ready", "reason": "no model loaded"}, 503)
    return JSONResponse({"status": "ready", "model_version": state.routing.stable.version})
