"""The compiled request path (`make test-native`): the tier runs the modules it says it runs.

`make test-native` runs tests/unit/inference and tests/unit/fastpath again with PYTHONPATH on
the mypyc build (`make native`) and HOTSWAP_NATIVE=1; elsewhere the same modules run
interpreted.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from .compiled import is_compiled

ROOT = Path(__file__).resolve().parents[3]
COMPILED = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hotswap"]["compiled"]
NATIVE = os.environ.get("HOTSWAP_NATIVE") == "1"


def module_name(path: str) -> str:
    return path.removeprefix("inference/").removesuffix(".py").replace("/", ".")


def test_the_compiled_list_names_request_path_modules_that_exist() -> None:
    assert COMPILED, "pyproject.toml [tool.hotswap] compiled is empty"
    for path in COMPILED:
        assert (ROOT / path).is_file(), f"{path} in [tool.hotswap] compiled does not exist"
        assert path.startswith("inference/hotswap_inference/"), path


@pytest.mark.skipif(
    not NATIVE, reason="interpreted here: `make test-native` runs the compiled build"
)
def test_every_listed_module_runs_compiled() -> None:
    interpreted = [path for path in COMPILED if not is_compiled(module_name(path))]
    assert not interpreted, f"these run interpreted in the native tier: {interpreted}"
    assert not is_compiled("hotswap_inference.apps")  # the twin: an unlisted module is not


@pytest.mark.skipif(NATIVE, reason="compiled here: the interpreted tier checks the sources run")
def test_every_listed_module_runs_from_its_source() -> None:
    compiled = [path for path in COMPILED if is_compiled(module_name(path))]
    assert not compiled, f"stale extensions shadow these sources: {compiled}"
