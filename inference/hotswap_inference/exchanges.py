"""One prediction request as plain ASGI: headers read once, body read, the answer sent.

The two prediction routes (`/predict`, V2 infer) are ASGI apps, not Starlette endpoints: no
`Request` or `JSONResponse` per call and no header scan per lookup (Starlette's raises and
catches a KeyError for every header that is absent). The bytes on the wire are the same as a
`JSONResponse`'s. Errors still raise `ServiceError`; Starlette's exception middleware turns
them into the same responses as on every other route (`errors.handle_service_error`), with
the routed version, arm and request id read from the request's state (`mark_routed`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from hotswap_inference.services import Service

JSON_TYPE = (b"content-type", b"application/json")
# what JSONResponse.render writes, without building an encoder per response
ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class Exchange:
    """The scope, receive channel and headers (lower-case names, first value) of one request."""

    __slots__ = ("headers", "receive", "scope")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        self.headers = header_map(scope["headers"])

    @property
    def service(self) -> Service:
        service: Service = self.scope["app"].state.service
        return service

    def request(self) -> Request:
        """A Starlette request over the same scope, for code that wants one (the guards)."""
        return Request(self.scope, self.receive)

    def mark_routed(self, version: str, arm: str, request_id: str) -> None:
        """Record the routed version, arm and request id where the error handler reads them."""
        self.scope.setdefault("state", {})["routed"] = (version, arm, request_id)


def header_map(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Headers by name; the first of repeated names wins, as `Headers.get` answers."""
    headers: dict[str, str] = {}
    for name, value in raw:
        headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return headers


async def send_json(send: Send, content: Any, headers: list[tuple[bytes, bytes]]) -> None:
    """A 200 JSON answer, byte for byte what `JSONResponse(content, headers=...)` sends."""
    await send_body(send, ENCODER.encode(content).encode("utf-8"), headers)


async def send_body(send: Send, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    """A 200 answer of JSON `body` with JSONResponse's headers after `headers`."""
    start = {"type": "http.response.start", "status": 200, "headers": json_headers(body, headers)}
    await send(start)
    await send({"type": "http.response.body", "body": body})


def json_headers(body: bytes, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers`, then the length and type JSONResponse sends for JSON `body`."""
    return [*headers, (b"content-length", str(len(body)).encode("latin-1")), JSON_TYPE]


def json_text(text: str) -> str:
    """A JSON string as JSONResponse writes it (non-ASCII kept, json's own C encoder)."""
    return encode_basestring(text)


def json_float(value: float) -> str:
    """A float as JSONResponse writes it; NaN and infinity raise, as `allow_nan=False` does."""
    if not math.isfinite(value):
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    return float.__repr__(value)


Handler = Callable[[Exchange, Send], Awaitable[None]]


class Endpoint:
    """A Starlette route target (an ASGI app, so no Request is built) calling `handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handler(Exchange(scope, receive), send)
