"""Argo CD health checks of ModelVersion and Canary, run by a real Lua 5.1 (Argo CD's
gopher-lua implements 5.1) on the fixtures in Argo CD's own test format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

from tests.unit.shipping.kustomizing import REPO

CUSTOMIZATIONS = REPO / "gitops" / "argocd" / "hotswap.dev"
KINDS = ("Canary", "ModelVersion")


def cases() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for kind in KINDS:
        tests = yaml.safe_load((CUSTOMIZATIONS / kind / "health_test.yaml").read_text())["tests"]
        found += [(kind, case) for case in tests]
    return found


def run_health(kind: str, obj: dict[str, Any]) -> dict[str, str]:
    """Run health.lua as Argo CD does: `obj` a global table, the script returns `hs`."""
    lua = lua51.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute((CUSTOMIZATIONS / kind / "health.lua").read_text())
    return {key: str(result[key]) for key in ("status", "message") if result[key] is not None}


def test_there_are_enough_fixtures_covering_every_status() -> None:
    statuses = {case["healthStatus"]["status"] for _, case in cases()}
    assert len(cases()) >= 9, f"expected at least 9 fixtures, saw {len(cases())}"
    assert statuses == {"Healthy", "Progressing", "Degraded", "Suspended"}, statuses


@pytest.mark.parametrize(
    ("kind", "case"), cases(), ids=[f"{k}-{Path(c['inputPath']).stem}" for k, c in cases()]
)
def test_health_of_fixture(kind: str, case: dict[str, Any]) -> None:
    obj = yaml.safe_load((CUSTOMIZATIONS / kind / case["inputPath"]).read_text())
    seen = run_health(kind, obj)
    assert seen == case["healthStatus"], f"expected {case['healthStatus']}, saw {seen}"


def test_a_script_error_is_not_mistaken_for_health() -> None:
    with pytest.raises(lua51.LuaError):
        run_health("Canary", {"status": {"conditions": []}})  # no metadata: obj.metadata is nil


def test_scripts_use_no_lua_5_2_features() -> None:
    for kind in KINDS:
        text = (CUSTOMIZATIONS / kind / "health.lua").read_text()
        for feature in ("goto ", "//", "_ENV", "&", "<<", ">>"):
            assert feature not in text, f"{kind}/health.lua uses {feature!r}, not in Lua 5.1"
