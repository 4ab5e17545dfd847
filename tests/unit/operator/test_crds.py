"""crds/*.yaml is the source of truth; these tests tie it to hotswap_operator's types.

Every field has a description, printer columns point at fields that exist, the dataclasses
have exactly the schema's fields (and the same required ones and defaults), samples parse.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from hotswap_operator import encoding, specs, statuses

ROOT = Path(__file__).resolve().parents[3]
CRDS = ROOT / "crds"
SAMPLES = CRDS / "samples"

TYPES = {
    "modelversions.hotswap.dev": {
        "spec": specs.ModelVersionSpec,
        "status": statuses.ModelVersionStatus,
    },
    "canaries.hotswap.dev": {"spec": specs.CanarySpec, "status": statuses.CanaryStatus},
}
PARSERS = {"ModelVersion": specs.parse_model_version, "Canary": specs.parse_canary}


def load_crd(name: str) -> dict[str, Any]:
    for path in CRDS.glob("*.yaml"):
        body = yaml.safe_load(path.read_text())
        if body["metadata"]["name"] == name:
            return typing.cast(dict[str, Any], body)
    raise AssertionError(f"no CRD named {name} in {CRDS}")


def schema_of(crd: dict[str, Any]) -> dict[str, Any]:
    return typing.cast(dict[str, Any], crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def walk(node: dict[str, Any], path: str) -> typing.Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for key, child in node.get("properties", {}).items():
        yield from walk(child, f"{path}.{key}")
    if "items" in node:
        yield from walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from walk(node["additionalProperties"], f"{path}{{}}")


def dataclass_of(hint: Any) -> type[Any] | None:
    """The dataclass inside `X`, `X | None` or `list[X]`, if any."""
    for candidate in (hint, *typing.get_args(hint)):
        if dataclasses.is_dataclass(candidate):
            return typing.cast(type[Any], candidate)
    return None


def pairs(cls: type[Any], node: dict[str, Any], path: str) -> typing.Iterator[tuple[Any, ...]]:
    """(dataclass, schema node, path) for `cls` and every dataclass nested in it."""
    yield cls, node, path
    hints = typing.get_type_hints(cls)
    for key, name in encoding.json_fields(cls).items():
        child = node.get("properties", {}).get(key)
        inner = dataclass_of(hints[name])
        if inner is not None and child is not None:
            yield from pairs(inner, child.get("items", child), f"{path}.{key}")


def all_pairs() -> list[tuple[Any, ...]]:
    found = []
    for crd_name, types in TYPES.items():
        schema = schema_of(load_crd(crd_name))
        for part, cls in types.items():
            found.extend(pairs(cls, schema["properties"][part], f"{crd_name}:{part}"))
    return found


@pytest.mark.parametrize("crd_name", sorted(TYPES))
def test_every_field_has_a_description(crd_name: str) -> None:
    """metadata aside: the API server forbids anything but its type there."""
    missing = [
        path
        for path, node in walk(schema_of(load_crd(crd_name)), "")
        if not str(node.get("description", "")).strip() and path != ".metadata"
    ]
    assert missing == [], f"expected a description on every field of {crd_name}, missing {missing}"


@pytest.mark.parametrize(
    ("cls", "node", "path"), all_pairs(), ids=lambda v: getattr(v, "__name__", "")
)
def test_dataclass_fields_equal_schema_properties(
    cls: type[Any], node: dict[str, Any], path: str
) -> None:
    expected = set(node.get("properties", {}))
    seen = set(encoding.json_fields(cls))
    assert seen == expected, (
        f"{path}: schema has {sorted(expected - seen)} not in {cls.__name__}, "
        f"{cls.__name__} has {sorted(seen - expected)} not in the schema"
    )


@pytest.mark.parametrize(
    ("cls", "node", "path"), all_pairs(), ids=lambda v: getattr(v, "__name__", "")
)
def test_required_fields_and_defaults_agree(
    cls: type[Any], node: dict[str, Any], path: str
) -> None:
    fields = {encoding.camel(f.name): f for f in dataclasses.fields(cls)}
    required = {
        k for k, f in fields.items() if f.default is f.default_factory is dataclasses.MISSING
    }
    assert required == set(node.get("required", [])), f"{path}: required fields differ"
    for key, child in node.get("properties", {}).items():
        if "default" in child and not isinstance(child["default"], dict):
            assert fields[key].default == child["default"], (
                f"{path}.{key}: schema default {child['default']!r}, "
                f"{cls.__name__} default {fields[key].default!r}"
            )


def column_path(json_path: str) -> list[str]:
    """`.status.conditions[?(@.type=="Ready")].status` -> [status, conditions, [], status]."""
    parts: list[str] = []
    for piece in json_path.lstrip(".").split("."):
        name, bracket, _ = piece.partition("[")
        parts.append(name)
        if bracket:
            parts.append("[]")
    return [p for p in parts if p and not re.match(r"^@|^type==", p)]


def resolve(schema: dict[str, Any], parts: list[str]) -> dict[str, Any] | None:
    node: dict[str, Any] | None = schema
    for part in parts:
        if node is None:
            return None
        if part == "[]":
            node = node.get("items")
        elif part in node.get("properties", {}):
            node = node["properties"][part]
        elif node.get("type") == "object" and "properties" not in node:
            return node  # metadata: the API server's own schema
        else:
            return None
    return node


@pytest.mark.parametrize("crd_name", sorted(TYPES))
def test_printer_columns_point_at_fields(crd_name: str) -> None:
    crd = load_crd(crd_name)
    schema = schema_of(crd)
    for column in crd["spec"]["versions"][0]["additionalPrinterColumns"]:
        path = column["jsonPath"].replace('[?(@.type=="', "[").replace('")]', "]")
        parts = [p for p in column_path(column["jsonPath"]) if '"' not in p]
        assert resolve(schema, parts) is not None, f"column {column['name']}: {path} not in schema"


def test_printer_columns_are_the_documented_ones() -> None:
    expected = {
        "modelversions.hotswap.dev": ["Model", "Version", "Verified", "Serving", "Accuracy", "Age"],
        "canaries.hotswap.dev": [
            "Model",
            "Stable",
            "Canary",
            "Weight",
            "Step",
            "Analysis",
            "Ready",
            "Age",
        ],
    }
    for name, columns in expected.items():
        seen = [
            c["name"] for c in load_crd(name)["spec"]["versions"][0]["additionalPrinterColumns"]
        ]
        assert seen == columns, f"{name}: expected columns {columns}, seen {seen}"


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_samples_parse_into_the_types(sample: Path) -> None:
    body = yaml.safe_load(sample.read_text())
    parsed = PARSERS[body["kind"]](body["spec"])
    again = PARSERS[body["kind"]](encoding.dump(parsed))
    assert again == parsed, f"{sample.name}: expected a lossless round trip, got {again}"
    for key in body["spec"]:
        assert key in encoding.json_fields(type(parsed)), f"{sample.name}: unknown spec.{key}"


def test_model_version_sample_name_follows_the_store_naming() -> None:
    from hotswap.store import names

    body = yaml.safe_load((SAMPLES / "modelversion.yaml").read_text())
    expected = names.resource_name(body["spec"]["model"], body["spec"]["version"])
    assert body["metadata"]["name"] == expected, (
        f"expected {expected}, seen {body['metadata']['name']}"
    )


@pytest.mark.parametrize("crd_name", sorted(TYPES))
def test_every_field_has_a_type(crd_name: str) -> None:
    """The API server refuses a structural schema with an untyped field (found by a real one)."""
    untyped = [path for path, node in walk(schema_of(load_crd(crd_name)), "") if "type" not in node]
    assert untyped == [], f"expected a type on every field of {crd_name}, missing {untyped}"
