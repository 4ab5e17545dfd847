"""Typed parsing of Kubernetes bodies into frozen dataclasses, and back (camelCase on the wire).

A dataclass field `max_drop` is the JSON key `maxDrop`; `tests/unit/operator/test_crds.py`
checks that every field exists in the CRD schema and the other way round.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class ParseError(ValueError):
    """A body that does not fit its type: the message names the field."""


def camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def json_fields(cls: type[Any]) -> dict[str, str]:
    """JSON key -> dataclass field name."""
    return {camel(f.name): f.name for f in dataclasses.fields(cls)}


def load(cls: type[T], body: Any, *, where: str) -> T:
    """Build `cls` from a JSON-like mapping; unknown keys are ignored, missing required ones not."""
    if not isinstance(body, Mapping):
        raise ParseError(f"{where} must be an object, got {type(body).__name__}")
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        key = camel(field.name)
        if key in body and body[key] is not None:
            values[field.name] = convert(hints[field.name], body[key], where=f"{where}.{key}")
        elif _required(field):
            raise ParseError(f"{where}.{key} is required")
    return cls(**values)


_HINTS: dict[type[Any], dict[str, Any]] = {}  # a cache: classes are few and live forever


def _hints(cls: type[Any]) -> dict[str, Any]:
    """The resolved annotations of a dataclass, once per class: resolving them (ForwardRefs
    included) on every parse was 23% of the operator's idle CPU (docs/scale.md). Two threads
    racing on a class both store the same result."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def convert(hint: Any, value: Any, *, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return convert(inner[0], value, where=where)
    if dataclasses.is_dataclass(hint):
        return load(typing.cast(type[Any], hint), value, where=where)
    if origin is list:
        if not isinstance(value, list):
            raise ParseError(f"{where} must be a list")
        return [convert(args[0], item, where=f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ParseError(f"{where} must be an object")
        return {str(k): convert(args[1], v, where=f"{where}.{k}") for k, v in value.items()}
    return _scalar(hint, value, where=where)


def _scalar(hint: Any, value: Any, *, where: str) -> Any:
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is Any or (isinstance(value, hint) and not (hint is int and isinstance(value, bool))):
        return value
    raise ParseError(f"{where} must be of type {hint.__name__}, got {value!r}")


def _required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def dump(obj: Any, *, keep_none: bool = False) -> Any:
    """The JSON form of a dataclass tree; None fields are left out unless `keep_none`
    (a merge patch needs explicit nulls to remove a field)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {}
        for field in dataclasses.fields(obj):
            value = getattr(obj, field.name)
            if value is not None or keep_none:
                out[camel(field.name)] = dump(value, keep_none=keep_none)
        return out
    if isinstance(obj, list | tuple):
        return [dump(item) for item in obj]
    if isinstance(obj, dict):
        return {key: dump(value) for key, value in obj.items()}
    return obj
