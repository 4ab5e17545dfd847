"""Fixtures: a volume root with two text versions and a pod factory that always stops."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hotswap.store import publishing

from . import models, pods

MakePod = Callable[..., pods.Pod]


@pytest.fixture
def two_versions(root: Path) -> tuple[publishing.Published, publishing.Published]:
    return models.publish_text(root), models.publish_text(root, seed=1)


@pytest.fixture
def make_pod(root: Path) -> Iterator[MakePod]:
    started: list[pods.Pod] = []

    def make(ready: bool = True, **fields: Any) -> pods.Pod:
        pod = pods.Pod(pods.pod_settings(root, **fields)).start()
        started.append(pod)
        if ready:
            pod.wait_ready()
        return pod

    yield make
    for pod in started:
        pod.stop()
