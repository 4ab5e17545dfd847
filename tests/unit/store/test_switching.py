"""`current` switches atomically: a reader never sees it missing or half-written."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from hotswap.store import switching
from hotswap.store.errors import VersionNotFound
from hotswap.store.layout import ModelPaths
from tests.unit.store.conftest import MODEL, Publish

SWITCHES = 1000


def test_reader_never_sees_current_missing_during_1000_switches(
    root: Path, publish: Publish
) -> None:
    paths = ModelPaths(root, MODEL)
    one, two = publish().version, publish().version
    switching.switch_current(paths, one)
    seen: dict[str, int] = {}
    failures: list[str] = []
    done = threading.Event()

    def read_forever() -> None:
        while not done.is_set():
            try:
                version = switching.read_current(paths)
                (paths.current / "MANIFEST.json").stat()
            except Exception as exc:  # every failure is a finding
                failures.append(repr(exc))
                continue
            seen[str(version)] = seen.get(str(version), 0) + 1

    reader = threading.Thread(target=read_forever)
    reader.start()
    for i in range(SWITCHES):
        switching.switch_current(paths, two if i % 2 == 0 else one)
    done.set()
    reader.join()

    assert failures == [], f"reader saw {len(failures)} failures, first: {failures[:3]}"
    assert set(seen) <= {one, two}, f"reader saw versions {set(seen)}, expected only {one}, {two}"
    assert switching.read_current(paths) == one
    assert os.readlink(paths.current) == f"versions/{one}", "current must be a relative link"
    assert sorted(p.name for p in paths.dir.iterdir() if p.name.startswith(".current")) == []


def test_switch_refuses_an_unpublished_version(root: Path, publish: Publish) -> None:
    paths = ModelPaths(root, MODEL)
    serving = publish().version
    switching.switch_current(paths, serving)

    with pytest.raises(VersionNotFound, match="20990101_000000_deadbeef"):
        switching.switch_current(paths, "20990101_000000_deadbeef")
    assert switching.read_current(paths) == serving


def test_current_is_none_before_the_first_switch(root: Path) -> None:
    assert switching.read_current(ModelPaths(root, MODEL)) is None
