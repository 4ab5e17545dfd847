"""docs/api.md documents every CRD field and every reason the operator writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hotswap_operator import conditions

from tests.unit.operator.test_crds import CRDS, schema_of, walk

DOC = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text()


def test_every_reason_and_condition_type_is_documented() -> None:
    values = {conditions.TRUE, conditions.FALSE, conditions.UNKNOWN}  # statuses, not reasons
    constants = {
        k: v
        for k, v in vars(conditions).items()
        if k.isupper() and isinstance(v, str) and v not in values
    }
    missing = sorted(v for v in constants.values() if f"`{v}`" not in DOC)
    assert missing == [], f"expected docs/api.md to explain every reason, missing {missing}"


@pytest.mark.parametrize("path", sorted(CRDS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_field_is_documented(path: Path) -> None:
    schema = schema_of(yaml.safe_load(path.read_text()))
    fields = [
        p.lstrip(".")
        for p, _ in walk(schema, "")
        if p.startswith((".spec", ".status")) and not p.endswith(("{}", "[]"))
    ]
    missing = [f for f in fields if f"`{f}`" not in DOC]
    assert missing == [], f"expected docs/api.md to document {path.name} fields {missing}"
