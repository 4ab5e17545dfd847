"""The Canary CRD refuses the sticky headers the store refuses: same pattern, length, deny list."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from hotswap.store import routes

CRD = Path(__file__).resolve().parents[3] / "crds" / "canaries.yaml"


def sticky_header_schema() -> dict[str, Any]:
    body = yaml.safe_load(CRD.read_text())
    spec = body["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    schema: dict[str, Any] = spec["properties"]["stickyHeader"]
    return schema


def test_the_crd_pattern_and_length_are_the_stores() -> None:
    schema = sticky_header_schema()
    assert schema["pattern"] == routes.STICKY_HEADER_PATTERN
    assert (schema["minLength"], schema["maxLength"]) == (1, routes.STICKY_HEADER_MAX)
    assert schema["default"] == routes.DEFAULT_STICKY_HEADER


def test_the_crd_denies_exactly_the_stores_deny_list() -> None:
    rules = sticky_header_schema()["x-kubernetes-validations"]
    denying = [r for r in rules if "lowerAscii()" in r["rule"]]
    assert len(denying) == 1, f"expected one deny-list rule on stickyHeader, saw {rules}"
    listed = set(re.findall(r"'([^']*)'", denying[0]["rule"]))
    assert listed == routes.DENIED_STICKY_HEADERS, (
        f"CRD only: {listed - routes.DENIED_STICKY_HEADERS}, "
        f"store only: {routes.DENIED_STICKY_HEADERS - listed}"
    )
    assert all(name == name.lower() for name in listed), "the rule compares lowerAscii()"
    message = denying[0]["message"].lower()
    missing = [name for name in listed if name not in message]
    assert not missing, f"the rule's message should name every denied header; missing {missing}"
