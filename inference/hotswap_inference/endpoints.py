"""The serving endpoints on port 8000: predict, feedback, health and readiness.

Endpoints are async: a verified fast path answers on the event loop, sklearn in the threadpool
(`predicting`). `predict` (and V2 `infer`) take an `Exchange` and write their answer to `send`
(`exchanges`: no Starlette Request or Response on the hot path); the rest are Starlette
endpoints.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Send

from hotswap_inference import connections, exchanges, inputs, predicting
from hotswap_inference.errors import ARM_HEADER, VERSION_HEADER, ServiceError
from hotswap_inference.exchanges import Exchange
from hotswap_inference.predictors import Predictions
from hotswap_inference.services import Call, Service


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def call_headers(call: Call, token: str | None) -> list[tuple[bytes, bytes]]:
    """Version, arm, request id and feedback token, as raw ASGI headers (lower-case, latin-1)."""
    headers = [
        (b"x-model-version", call.served.version.encode("latin-1")),
        (b"x-model-arm", call.arm.encode("latin-1")),
        (b"x-request-id", call.request_id.encode("latin-1")),
    ]
    if token is not None:
        headers.append((b"x-feedback-token", token.encode("latin-1")))  # as X-Request-Id came
    return headers


async def run_call(
    exchange: Exchange, parse: Callable[[Call, Any], list[Any]]
) -> tuple[Call, Predictions, str | None]:
    """Route, read and check the body, predict; count a failure by its code. Answers the call,
    its predictions and their feedback token (None without a feedback key)."""
    service = exchange.service
    call = service.route(exchange)
    try:
        body = await inputs.receive_json(
            exchange.headers, exchange.receive, service.settings.limits
        )
        items = parse(call, body)
        predictions = await service.answer(call, items)
    except ServiceError as exc:
        service.count_failure(call, exc.status)
        raise
    return call, predictions, service.feedback_token(call)


async def predict(exchange: Exchange, send: Send) -> None:
    limits = exchange.service.settings.limits
    batch = False

    def parse(call: Call, body: Any) -> list[Any]:
        nonlocal batch
        items, batch = inputs.parse_predict(body, call.served.inputs, limits)
        return items

    call, predictions, token = await run_call(exchange, parse)
    body = predict_answer(call, predictions, batch=batch, token=token)
    await exchanges.send_body(send, body, call_headers(call, token))


def answer_at_once(
    service: Service, raw_headers: list[tuple[bytes, bytes]], raw: bytes
) -> tuple[bytes, bytes] | None:
    """The header lines and body of a `POST /predict` answered on the spot (`connections`: from the
    parser's callbacks, no task, no ASGI), or None: then `predict` answers it, errors included.
    Only an answer that is sure is given here (no guard, a well-formed request, a fast path
    that answers inline); nothing is counted before it is, so a request handed on is counted
    once, there. The bytes are those `predict` sends. A body over the limit never comes here
    (`connections.Shortcut.max_body_bytes`: `predict` refuses it, 413)."""
    if service.guard.enabled:
        return None  # keys and rate limits judge a Starlette request: `predict` does
    limits = service.settings.limits
    headers = exchanges.header_map(raw_headers)
    try:
        inputs.check_declared(headers, limits)
        body = inputs.parse_json(raw)
        choice = service.choose(headers)
        items, batch = inputs.parse_predict(body, choice.served.inputs, limits)
        own = predicting.answer_inline(choice.served, items)
    except Exception:  # a refusal or a failure: `predict` gives (and counts) it
        return None
    if own is None:
        return None
    call = service.commit(choice)
    service.finish(call, items, own)
    token = service.feedback_token(call)
    answer = predict_answer(call, own, batch=batch, token=token)
    return answer_lines(call, token, len(answer)), answer


def answer_lines(call: Call, token: str | None, length: int) -> bytes:
    """The header lines `call_headers` and `json_headers` give, as uvicorn writes them: the
    version and arm joined once per pair; the request id is printable (`identifiers`), and the
    token is built of it and of checked parts."""
    lines = [
        version_lines(call.served.version, call.arm),
        b"x-request-id: %s\r\n" % call.request_id.encode("latin-1"),
    ]
    if token is not None:
        lines.append(b"x-feedback-token: %s\r\n" % token.encode("latin-1"))
    lines.append(b"content-length: %d\r\ncontent-type: application/json\r\n" % length)
    return b"".join(lines)


@functools.lru_cache(maxsize=64)
def version_lines(version: str, arm: str) -> bytes:
    """The version and arm header lines of one (version, arm), checked as uvicorn checks them."""
    headers = [
        (b"x-model-version", version.encode("latin-1")),
        (b"x-model-arm", arm.encode("latin-1")),
    ]
    return connections.header_lines(headers)


def predict_answer(
    call: Call, predictions: Predictions, *, batch: bool, token: str | None = None
) -> bytes:
    """The body of a /predict answer: the bytes JSONResponse writes for the same object."""
    text, number = exchanges.json_text, exchanges.json_float
    head = (
        f'{{"model_version":{text(call.served.version)},"arm":{text(call.arm)},'
        f'"request_id":{text(call.request_id)}'
    )
    if token is not None:
        head += f',"feedback_token":{text(token)}'
    answers = [
        f'"label":{text(label)},"confidence":{number(confidence)}'
        for label, confidence in zip(predictions.labels, predictions.confidences, strict=True)
    ]
    if batch:
        listed = ",".join(f"{{{answer}}}" for answer in answers)
        return f'{head},"predictions":[{listed}]}}'.encode()
    return f"{head},{answers[0]}}}".encode()


async def feedback(request: Request) -> Response:
    service = service_of(request)
    service.guard.check(request)
    body = await inputs.read_json(request, service.settings.limits)
    claim = service.record_feedback(body)
    answer = {"recorded": True, "request_id": claim.request_id, "model_version": claim.version}
    headers = {VERSION_HEADER: claim.version, ARM_HEADER: claim.arm}
    return JSONResponse(answer | {"arm": claim.arm}, headers=headers)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "alive"})


async def readyz(request: Request) -> Response:
    state = service_of(request).reloader.state
    if state is None:
        return JSONResponse({"status": "not_ready", "reason": "no model loaded"}, 503)
    return JSONResponse({"status": "ready", "model_version": state.routing.stable.version})
