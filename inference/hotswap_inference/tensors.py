"""Open Inference Protocol (V2) tensors: check an infer request, build its response.

One input tensor: BYTES of shape [N] or [N, 1] for a text version; FP32 or FP64 of shape
[N, F] (or [F] for one row) for a numeric version. Data may be flat (row-major) or nested.
"""

from __future__ import annotations

import math
from typing import Any

from hotswap_inference import inputs
from hotswap_inference.errors import BadInput
from hotswap_inference.predictors import Predictions
from hotswap_inference.settings import Limits
from hotswap_inference.states import TEXT, InputSpec

NUMERIC_TYPES = ("FP32", "FP64")
MAX_DIMENSION = 2**31 - 1


def parse_infer(body: Any, spec: InputSpec, limits: Limits) -> list[Any]:
    """The items of a V2 infer request, checked against the version's input spec."""
    if not isinstance(body, dict):
        raise BadInput("body", 'must be a JSON object with "inputs": [tensor]')
    tensors = body.get("inputs")
    if not isinstance(tensors, list) or len(tensors) != 1 or not isinstance(tensors[0], dict):
        raise BadInput("inputs", "must be a list of exactly one tensor object")
    tensor = tensors[0]
    shape, data = check_shape(tensor.get("shape")), flatten(tensor.get("data"))
    if math.prod(shape) != len(data):
        raise BadInput(
            "inputs[0].data", f"holds {len(data)} values, shape {shape} needs {math.prod(shape)}"
        )
    if spec.kind == TEXT:
        return text_items(tensor.get("datatype"), shape, data, limits)
    return numeric_rows(tensor.get("datatype"), shape, data, spec, limits)


def check_shape(shape: Any) -> list[int]:
    valid = isinstance(shape, list) and 1 <= len(shape) <= 2
    if not valid or not all(is_dimension(d) for d in shape):
        raise BadInput(
            "inputs[0].shape",
            f"must be a list of 1 or 2 integers from 0 to {MAX_DIMENSION}, "
            f"got {inputs.preview(shape)}",
        )
    return [int(d) for d in shape]


def is_dimension(value: Any) -> bool:
    """A whole number (2 or 2.0) from 0 to `MAX_DIMENSION`; never NaN or infinity."""
    if isinstance(value, float) and not value.is_integer():
        return False
    return inputs.is_number(value) and 0 <= value <= MAX_DIMENSION


def flatten(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise BadInput("inputs[0].data", f"must be a list, got {inputs.type_name(data)}")
    flat: list[Any] = []
    for item in data:
        flat.extend(flatten(item) if isinstance(item, list) else [item])
    return flat


def text_items(datatype: Any, shape: list[int], data: list[Any], limits: Limits) -> list[str]:
    if datatype != "BYTES":
        raise BadInput("inputs[0].datatype", f"is {datatype!r}: this model takes BYTES (text)")
    if len(shape) == 2 and shape[1] != 1:
        raise BadInput("inputs[0].shape", f"is {shape}: text takes [N] or [N, 1]")
    check_rows(shape[0], limits)
    return [inputs.check_text(v, f"inputs[0].data[{i}]", limits) for i, v in enumerate(data)]


def numeric_rows(
    datatype: Any, shape: list[int], data: list[Any], spec: InputSpec, limits: Limits
) -> list[list[float]]:
    if datatype not in NUMERIC_TYPES:
        raise BadInput("inputs[0].datatype", f"is {datatype!r}: this model takes FP32 or FP64")
    rows, width = (1, shape[0]) if len(shape) == 1 else (shape[0], shape[1])
    if spec.features is not None and width != spec.features:
        raise BadInput("inputs[0].shape", f"is {shape}: this model takes [N, {spec.features}]")
    check_rows(rows, limits)
    matrix = [data[i * width : (i + 1) * width] for i in range(rows)]
    return [inputs.check_row(r, f"inputs[0].data[{i}]", width) for i, r in enumerate(matrix)]


def check_rows(rows: int, limits: Limits) -> int:
    if rows < 1:
        raise BadInput("inputs[0].shape", "holds no rows: send at least one")
    if rows > limits.max_batch:
        raise BadInput(
            "inputs[0].shape", f"has {rows} rows, the limit is {limits.max_batch}: split it"
        )
    return rows


def build_outputs(predictions: Predictions) -> list[dict[str, Any]]:
    count = len(predictions.labels)
    return [
        {"name": "label", "datatype": "BYTES", "shape": [count], "data": predictions.labels},
        {
            "name": "confidence",
            "datatype": "FP64",
            "shape": [count],
            "data": predictions.confidences,
        },
    ]


def describe_model(name: str, versions: list[str], spec: InputSpec) -> dict[str, Any]:
    """Model metadata as V2 clients read it."""
    if spec.kind == TEXT:
        tensor = {"name": "text", "datatype": "BYTES", "shape": [-1]}
    else:
        tensor = {"name": "features", "datatype": "FP64", "shape": [-1, spec.features or -1]}
    return {
        "name": name,
        "versions": versions,
        "platform": "sklearn",
        "inputs": [tensor],
        "outputs": [
            {"name": "label", "datatype": "BYTES", "shape": [-1]},
            {"name": "confidence", "datatype": "FP64", "shape": [-1]},
        ],
    }
