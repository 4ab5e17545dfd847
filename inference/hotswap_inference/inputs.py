"""Request bodies: read within the size limit, parse, check every item of `POST /predict`.

Every JSON body (predict, V2 infer, feedback, admin reload) is read here: declared as
`application/json` (else 415), at most `max_body_bytes`, nested at most `MAX_DEPTH` levels.
`{"input": x}` is one prediction, `{"inputs": [x, ...]}` a batch. A text version takes strings,
a numeric version rows of finite numbers a float32 can hold (what the models compute in). Each
refusal names the field and the fix, never a Python exception's text.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from hotswap_inference.errors import BadInput, ClientGone, PayloadTooLarge, UnsupportedMediaType
from hotswap_inference.settings import Limits
from hotswap_inference.states import TEXT, InputSpec

JSON_MEDIA = "application/json"
MAX_DEPTH = 32  # arrays and objects inside each other; a V2 request needs 5
FLOAT32_MAX = 3.4028234663852886e38  # numpy.finfo(numpy.float32).max
PREVIEW_CHARS = 60


async def read_json(request: Request, limits: Limits) -> Any:
    """The JSON body, refused early when larger than `limits.max_body_bytes`."""
    check_declared(request.headers, limits)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body_bytes:
                raise too_large(size, limits)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ClientGone(received=size) from None
    return parse_json(b"".join(chunks))


async def receive_json(headers: Mapping[str, str], receive: Receive, limits: Limits) -> Any:
    """The same straight from the ASGI channel (as `Request.stream` reads it), for `Exchange`."""
    check_declared(headers, limits)
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone(received=size)
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limits.max_body_bytes:
                raise too_large(size, limits)
            chunks.append(chunk)
            more = message.get("more_body", False)
    return parse_json(b"".join(chunks))


def check_declared(headers: Mapping[str, str], limits: Limits) -> None:
    """The declared type (JSON, else 415) and length (at most the limit, else 413)."""
    kind = headers.get("content-type")
    if kind != JSON_MEDIA and not is_json_media(kind):
        raise UnsupportedMediaType(
            f"Content-Type is {kind!r}: send the body as JSON with the header "
            f"'Content-Type: {JSON_MEDIA}'"
            if kind
            else f"Content-Type is missing: send the header 'Content-Type: {JSON_MEDIA}'"
        )
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise too_large(int(declared), limits)


def too_large(size: int, limits: Limits) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"body is at least {size} bytes, the limit is {limits.max_body_bytes}: "
        "send smaller batches",
        field="body",
    )


def is_json_media(kind: str | None) -> bool:
    """`application/json`, any case, with at most a UTF-8 charset parameter."""
    media, _, parameters = (kind or "").partition(";")
    if media.strip().lower() != JSON_MEDIA:
        return False
    name, _, value = parameters.partition("=")
    charset = value.strip().strip('"').lower()
    return not parameters.strip() or (name.strip().lower() == "charset" and charset == "utf-8")


def parse_json(raw: bytes) -> Any:
    body: Any = scan_object(raw)  # Any: compiled, a dict-typed local refuses the list of json
    if body is None:
        body = load_json(raw)
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH:  # else it cannot nest that deep
        check_depth(body)
    return body


# json.loads' own scanner (C), with its defaults (strict); typeshed leaves the attribute out
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def scan_object(raw: bytes) -> dict[str, Any] | None:
    """`json.loads(raw)` for the common body, a UTF-8 object with nothing around it, through
    the scanner alone (json.loads' encoding guess, decode and whitespace steps are ~1% of a
    request's CPU); None for anything else, a failure included: `load_json` answers it."""
    if raw[:1] != b"{" or raw[-1:] != b"}" or raw[1:2] == b"\0":  # b"\0": UTF-16/32
        return None
    try:
        text = raw.decode("utf-8", "surrogatepass")  # as json.loads decodes UTF-8
        body, end = _SCAN(text, 0)
    except (StopIteration, ValueError, RecursionError):
        return None  # JSONDecodeError and UnicodeDecodeError are ValueErrors
    return body if end == len(text) else None


def load_json(raw: bytes) -> Any:
    """`json.loads(raw)`, its errors as `BadInput` naming the problem and the fix."""
    if not raw.strip():
        raise BadInput("body", 'is empty: send JSON such as {"input": "some text"}')
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        where = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise BadInput("body", f"is not valid JSON ({where}): send a JSON object") from None
    except UnicodeDecodeError as exc:
        where = f"byte {raw[exc.start]:#04x} at position {exc.start}"
        raise BadInput("body", f"is not valid JSON (not UTF-8: {where}): send UTF-8") from None
    except ValueError:  # the only other one: an integer longer than Python reads
        digits = sys.get_int_max_str_digits()
        raise BadInput(
            "body", f"holds a number of more than {digits} digits: send ordinary numbers"
        ) from None
    except RecursionError:
        raise too_deep() from None


def check_depth(body: Any) -> None:
    """Refuse a body whose arrays and objects nest more than `MAX_DEPTH` levels deep."""
    level, nodes = 0, [body] if isinstance(body, list | dict) else []
    while nodes:
        level += 1
        if level > MAX_DEPTH:
            raise too_deep()
        nodes = [
            child
            for node in nodes
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, list | dict)
        ]


def too_deep() -> BadInput:
    return BadInput(
        "body", f"nests arrays or objects more than {MAX_DEPTH} levels deep: send flatter JSON"
    )


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
    try:
        row = [float(x) for x in item]
    except OverflowError:  # an integer beyond any float
        raise out_of_range(item, field) from None
    if not all(-FLOAT32_MAX <= x <= FLOAT32_MAX for x in row):  # NaN compares False
        raise out_of_range(item, field)
    return row


def out_of_range(item: list[Any], field: str) -> BadInput:
    """The first number of `item` that is NaN, infinite or beyond the float32 range."""
    index = next(i for i, x in enumerate(item) if not is_float32(x))
    return BadInput(
        f"{field}[{index}]",
        f"is {preview(item[index])}: send a finite number within ±3.4e38 "
        "(the float32 range the model computes in)",
    )


def is_float32(value: int | float) -> bool:
    return -FLOAT32_MAX <= value <= FLOAT32_MAX  # exact for ints of any size, False for NaN


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def preview(value: Any) -> str:
    """`value` as JSON for a message, cut to `PREVIEW_CHARS` characters."""
    try:
        text = json.dumps(value, allow_nan=True)
    except ValueError:  # an integer too long to write
        text = "an integer of thousands of digits"
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


def type_name(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if is_number(value) else type(value).__name__)
