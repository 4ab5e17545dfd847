"""The admin endpoints on port 8001: `POST /admin/reload` and `GET /admin/status`.

Both need `Authorization: Bearer <reload token>`; with no token configured, every request is
refused. The reload body is `Routing.to_dict()` plus `"model"`; both answer the pod's
`PodReport.to_dict()` (the store's `reports`), a reload adding `"outcome"`.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hotswap.store.errors import StoreError
from hotswap.store.routes import Routing
from hotswap_inference import endpoints, inputs
from hotswap_inference.errors import BadInput, InvalidRouting, Unauthorized, WrongModel
from hotswap_inference.services import Service

ROUTING_SHAPE = (
    "routing is invalid: send Routing.to_dict() plus 'model' (stable, canary, weight, "
    "stickyHeader, mirrorPercent, generation)"
)


def check_token(request: Request, service: Service) -> None:
    expected = service.settings.token()
    if expected is None:
        raise Unauthorized(
            "no reload token is configured on this pod: set HOTSWAP_RELOAD_TOKEN "
            "or HOTSWAP_RELOAD_TOKEN_FILE"
        )
    auth = request.headers.get("authorization", "")
    given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("missing or wrong token: send Authorization: Bearer <reload token>")


def parse_reload(body: Any, model: str) -> Routing:
    if not isinstance(body, dict):
        raise BadInput("body", "must be a JSON object: Routing.to_dict() plus 'model'")
    if not isinstance(body.get("model"), str):
        raise BadInput("model", f"is required: the model name this pod serves ({model!r})")
    if body["model"] != model:
        raise WrongModel(f"this pod serves {model!r}, not {body['model']!r}", field="model")
    try:
        return Routing.from_dict(body)
    except StoreError as exc:  # the store's message names the field and the fix
        raise InvalidRouting(f"routing is invalid: {exc}", field="routing") from exc
    except (TypeError, ValueError) as exc:  # never a Python exception's text
        raise InvalidRouting(ROUTING_SHAPE, field="routing") from exc


async def reload(request: Request) -> Response:
    service = endpoints.service_of(request)
    check_token(request, service)
    body = await inputs.read_json(request, service.settings.limits)
    routing = parse_reload(body, service.model)
    outcome = await service.reloader.in_thread(service.reloader.apply, routing)
    return JSONResponse(service.report().to_dict() | {"outcome": outcome})


async def status(request: Request) -> Response:
    service = endpoints.service_of(request)
    check_token(request, service)
    return JSONResponse(service.report().to_dict())
