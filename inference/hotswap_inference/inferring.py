"""Open Inference Protocol (V2) endpoints, as KServe, MLServer and Triton clients call them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Send

from hotswap_inference import endpoints, exchanges, tensors
from hotswap_inference.errors import NotFound
from hotswap_inference.exchanges import Exchange
from hotswap_inference.services import Call, Service


def check_name(name: str, service: Service) -> None:
    if name != service.model:
        raise NotFound(f"model {name!r} is not served here: this server serves {service.model!r}")


async def live(request: Request) -> Response:
    return JSONResponse({"live": True})


async def ready(request: Request) -> Response:
    ready = endpoints.service_of(request).reloader.state is not None
    return JSONResponse({"ready": ready}, status_code=200 if ready else 503)


async def model_ready(request: Request) -> Response:
    service = endpoints.service_of(request)
    check_name(request.path_params["name"], service)
    ready = service.reloader.state is not None
    return JSONResponse({"name": service.model, "ready": ready}, 200 if ready else 503)


async def model_metadata(request: Request) -> Response:
    service = endpoints.service_of(request)
    service.guard.check(request)
    check_name(request.path_params["name"], service)
    state = service.require_state()
    stable = state.serving("stable")
    body = tensors.describe_model(service.model, sorted(state.served), stable.inputs)
    return JSONResponse(body)


async def infer(exchange: Exchange, send: Send) -> None:
    service = exchange.service
    check_name(exchange.scope["path_params"]["name"], service)
    limits = service.settings.limits
    request_id: Any = None

    def parse(call: Call, body: Any) -> list[Any]:
        nonlocal request_id
        request_id = body.get("id") if isinstance(body, dict) else None
        return tensors.parse_infer(body, call.served.inputs, limits)

    call, predictions, token = await endpoints.run_call(exchange, parse)
    parameters = {"arm": call.arm, "request_id": call.request_id}
    if token is not None:
        parameters["feedback_token"] = token
    answer = {
        "model_name": service.model,
        "model_version": call.served.version,
        "id": request_id if isinstance(request_id, str) else call.request_id,
        "parameters": parameters,
        "outputs": tensors.build_outputs(predictions),
    }
    await exchanges.send_json(send, answer, endpoints.call_headers(call, token))


async def server_metadata(request: Request) -> Response:
    return JSONResponse({"name": "hotswap", "version": "0.1.0", "extensions": []})
