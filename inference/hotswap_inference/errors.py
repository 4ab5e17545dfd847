"""Domain errors of the service and the one place that turns them into responses.

Every error body is JSON: `{"error": <code>, "message": <what is wrong and the fix>, ...}`;
V2 paths answer `{"error": <message>}` as the Open Inference Protocol says. A response after
routing carries the routed version, arm and request id in `X-Model-Version` / `X-Model-Arm` /
`X-Request-Id`. Messages say what was wrong with the request, never a Python exception's text.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

VERSION_HEADER = "X-Model-Version"
ARM_HEADER = "X-Model-Arm"
REQUEST_ID_HEADER = "X-Request-Id"

log = logging.getLogger(__name__)


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}

    def headers(self) -> dict[str, str]:
        return {}


class BadInput(ServiceError):
    code = "bad_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


class NotReady(ServiceError):
    status = 503
    code = "not_ready"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class RateLimited(ServiceError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retryAfterSeconds=retry_after)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="Content-Type")


class ClientGone(ServiceError):
    """The client closed the connection before its whole body arrived (nginx's 499)."""

    status = 499
    code = "client_closed_request"

    def __init__(self, *, received: int) -> None:
        super().__init__(f"the client closed the connection after {received} bytes of the body")


class InvalidRouting(ServiceError):
    code = "invalid_routing"


class WrongModel(ServiceError):
    status = 422
    code = "wrong_model"


class StaleGeneration(ServiceError):
    status = 409
    code = "stale"


class LoadFailed(ServiceError):
    status = 422
    code = "load_failed"

    def __init__(self, version: str, reason: str) -> None:
        super().__init__(f"version {version} did not load: {reason}")
        self.version = version
        self.reason = reason

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "version": self.version, "reason": self.reason}


async def handle_service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    body = exc.body()
    if request.url.path.startswith("/v2/"):
        body = {"error": exc.message, "code": exc.code}
    headers = routed_headers(request) | exc.headers()
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def handle_client_gone(request: Request, exc: Exception) -> Response:
    """One log line, no traceback; the answer goes nowhere (uvicorn drops it)."""
    assert isinstance(exc, ClientGone)
    client = f"{request.client.host}:{request.client.port}" if request.client else "a client"
    log.warning("%s %s from %s: %s", request.method, request.url.path, client, exc.message)
    return await handle_service_error(request, exc)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """A bug, not the request's fault: the usual shape, no exception text (uvicorn logs it)."""
    body = {"error": "internal_error", "message": "the server failed: retry, or report it"}
    return JSONResponse(body, status_code=500, headers=routed_headers(request))


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405: JSON too, naming the path or method."""
    assert isinstance(exc, HTTPException)
    message = f"{request.method} {request.url.path}: {exc.detail}"
    return JSONResponse({"error": "http_error", "message": message}, status_code=exc.status_code)


def routed_headers(request: Request) -> dict[str, str]:
    """The version/arm/request id headers of a request that was routed before it failed."""
    routed = getattr(request.state, "routed", None)
    if routed is None:
        return {}
    version, arm, request_id = routed
    return {VERSION_HEADER: version, ARM_HEADER: arm, REQUEST_ID_HEADER: request_id}


EXCEPTION_HANDLERS: Any = {
    ClientGone: handle_client_gone,
    ServiceError: handle_service_error,
    HTTPException: handle_http_error,
    Exception: handle_unexpected,
}


class FeedbackDisabled(ServiceError):
    """No usable feedback key on this pod: predictions carry no token, feedback is refused."""

    status = 503
    code = "feedback_disabled"


class FeedbackRefused(ServiceError):
    """A feedback token this pod does not credit; the body names the field and says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="feedback_token")


class FeedbackTokenInvalid(FeedbackRefused):
    status = 403
    code = "feedback_token_invalid"


class FeedbackTokenExpired(FeedbackRefused):
    status = 410
    code = "feedback_token_expired"


class FeedbackTokenReplayed(FeedbackRefused):
    status = 409
    code = "feedback_token_replayed"
