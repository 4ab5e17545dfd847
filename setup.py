"""Setuptools entry point: the metadata is in pyproject.toml; this file only adds the compiled
request path.

With `HOTSWAP_COMPILE=1` the modules listed in pyproject.toml's `[tool.hotswap] compiled`
(the serving port's request path) are compiled by mypyc into C extensions installed beside
their sources; Python imports an extension before a source of the same name. The sources are
the same either way: without the variable (an editable install, `make setup`) every module
runs interpreted. `make native` and the inference image build compiled (docs/fastpath.md).
"""

import os
import tomllib
from pathlib import Path

from setuptools import setup


def compiled_extensions() -> list[object]:
    if os.environ.get("HOTSWAP_COMPILE") != "1":
        return []
    from mypyc.build import mypycify  # the build's own dependency only when compiling

    here = Path(__file__).parent
    modules = tomllib.loads((here / "pyproject.toml").read_text())["tool"]["hotswap"]["compiled"]
    # paths relative to this file; mypy reads [tool.mypy] (strict, mypy_path) from pyproject
    return list(mypycify(modules, opt_level="3", group_name="hotswap_native"))


setup(ext_modules=compiled_extensions())
