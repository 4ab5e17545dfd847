"""One copy of manifests/ with a generated reload token for the shipping tests of a session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.shipping import kustomizing


@pytest.fixture(scope="session")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return kustomizing.copy_tree(tmp_path_factory.mktemp("shipping"))


@pytest.fixture(scope="session")
def builds(manifests: Path) -> dict[str, list[kustomizing.Resource]]:
    return {name: kustomizing.build(manifests, name) for name in kustomizing.KUSTOMIZATIONS}
