"""The body of `POST /predict`: read within the size limit, parse, check every item.

`{"input": x}` is one prediction, `{"inputs": [x, ...]}` a batch. A text version takes strings,
a numeric version rows of numbers. Each refusal names the field and the fix.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from hotswap_inference.errors import BadInput, PayloadTooLarge
from hotswap_inference.settings import Limits
from hotswap_inference.states import TEXT, InputSpec


async def read_json(request: Request, limits: Limits) -> Any:
    """The JSON body, refused early when larger than `limits.max_body_bytes`."""
    check_declared(request.headers, limits)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise too_large(size, limits)
        chunks.append(chunk)
    return parse_json(b"".join(chunks))


async def receive_json(headers: Mapping[str, str], receive: Receive, limits: Limits) -> Any:
    """The same straight from the ASGI channel (as `Request.stream` reads it), for `Exchange`."""
    check_declared(headers, limits)
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limits.max_body_bytes:
                raise too_large(size, limits)
            chunks.append(chunk)
            more = message.get("more_body", False)
    return parse_json(b"".join(chunks))


def check_declared(headers: Mapping[str, str], limits: Limits) -> None:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise too_large(int(declared), limits)


def too_large(size: int, limits: Limits) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"body is at least {size} bytes, the limit is {limits.max_body_bytes}: "
        "send smaller batches",
        field="body",
    )


def parse_json(raw: bytes) -> Any:
    if not raw.strip():
        raise BadInput("body", 'is empty: send JSON such as {"input": "some text"}')
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput("body", f"is not valid JSON ({exc}): send a JSON object") from exc


def parse_predict(body: Any, spec: InputSpec, limits: Limits) -> tuple[list[Any], bool]:
    """The items to predict and whether the request was a batch."""
    if not isinstance(body, dict):
        raise BadInput("body", 'must be a JSON object: {"input": ...} or {"inputs": [...]}')
    if ("input" in body) == ("inputs" in body):
        raise BadInput("input", "give exactly one of 'input' (one item) or 'inputs' (a list)")
    if "input" in body:
        return [check_item(body["input"], "input", spec, limits)], False
    return check_batch(body["inputs"], "inputs", spec, limits), True


def check_batch(items: Any, field: str, spec: InputSpec, limits: Limits) -> list[Any]:
    if not isinstance(items, list):
        raise BadInput(field, f"must be a list, got {type_name(items)}")
    if not items:
        raise BadInput(field, "is empty: give at least one item")
    if len(items) > limits.max_batch:
        raise BadInput(
            field, f"has {len(items)} items, the limit is {limits.max_batch}: split the batch"
        )
    return [check_item(item, f"{field}[{i}]", spec, limits) for i, item in enumerate(items)]


def check_item(item: Any, field: str, spec: InputSpec, limits: Limits) -> Any:
    if spec.kind == TEXT:
        return check_text(item, field, limits)
    return check_row(item, field, spec.features)


def check_text(item: Any, field: str, limits: Limits) -> str:
    if not isinstance(item, str):
        raise BadInput(field, f"must be a string of text, got {type_name(item)}")
    if not item.strip():
        raise BadInput(field, "is empty: send some text")
    if len(item) > limits.max_text_chars:
        raise BadInput(
            field,
            f"is {len(item)} characters long, the limit is {limits.max_text_chars}: shorten it",
        )
    return item


def check_row(item: Any, field: str, features: int | None) -> list[float]:
    if not isinstance(item, list) or not all(is_number(x) for x in item):
        raise BadInput(field, f"must be a list of {features} numbers, got {type_name(item)}")
    if features is not None and len(item) != features:
        raise BadInput(field, f"has {len(item)} numbers, the model takes {features}")
    if not all(math.isfinite(x) for x in item):
        raise BadInput(field, "holds NaN or infinity: send finite numbers")
    return [float(x) for x in item]


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def type_name(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if is_number(value) else type(value).__name__)
