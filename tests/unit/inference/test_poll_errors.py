"""Poller failures show where an operator looks: `/admin/status` `lastError` for an unreadable
routing.json or `current`, and a WARNING (once per attempt, not per poll) for a failed load."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from hotswap_inference import watching
from hotswap_inference.metrics import Metrics
from hotswap_inference.reloading import Reloader
from prometheus_client import CollectorRegistry

from hotswap.store import publishing
from hotswap.store.layout import ModelPaths

from . import models
from .conftest import MakePod

Versions = tuple[publishing.Published, publishing.Published]
WITHIN = 10.0


def last_error_within(pod: Any, wanted: str) -> dict[str, Any]:
    """`lastError` of GET /admin/status once it is `wanted` (bounded in time)."""
    deadline = time.monotonic() + WITHIN
    seen = None
    while time.monotonic() < deadline:
        seen = pod.admin("GET", "/admin/status").json()["lastError"]
        if seen is not None and seen["error"] == wanted:
            return dict(seen)
        time.sleep(0.1)
    raise AssertionError(f"expected lastError {wanted!r} within {WITHIN}s, saw {seen}")


def test_a_malformed_routing_json_shows_in_last_error_until_it_is_fixed(
    make_pod: MakePod, root: Path, two_versions: Versions
) -> None:
    old, new = two_versions
    models.write_routing(root, old, generation=1)
    pod = make_pod()
    assert pod.admin("GET", "/admin/status").json()["lastError"] is None

    paths = ModelPaths(root, models.MODEL)
    models.write_routing(root, new, generation=2)
    paths.routing.write_text(paths.routing.read_text().replace('"weight": 0', '"weight": "50"'))
    error = last_error_within(pod, "poll_failed")
    assert "routing.json" in error["reason"] and "weight" in error["reason"], error
    assert error["generation"] == 0 and error["version"] == "", error

    models.write_routing(root, new, generation=3)
    deadline = time.monotonic() + WITHIN
    while pod.admin("GET", "/admin/status").json()["generation"] != 3:
        assert time.monotonic() < deadline, "the fixed routing.json was not applied"
        time.sleep(0.1)
    assert pod.admin("GET", "/admin/status").json()["lastError"] is None


def test_a_broken_current_shows_in_last_error(make_pod: MakePod, root: Path) -> None:
    models.publish_text(root)
    paths = ModelPaths(root, models.MODEL)
    paths.current.symlink_to("versions/../../outside")
    pod = make_pod(ready=False)
    error = last_error_within(pod, "poll_failed")
    assert "current" in error["reason"], error


def poll(reloader: Reloader) -> None:
    asyncio.run(watching.poll_once(reloader))


def serving(root: Path, stable: publishing.Published) -> Reloader:
    """A reloader that has picked up routing.json at generation 1 by polling."""
    reloader = Reloader(root, models.MODEL, metrics=Metrics(CollectorRegistry()))
    models.write_routing(root, stable, generation=1)
    poll(reloader)
    return reloader


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_failed_load_from_the_volume_is_a_warning_once_per_attempt(
    root: Path, two_versions: Versions, caplog: pytest.LogCaptureFixture
) -> None:
    old, new = two_versions
    reloader = serving(root, old)
    artifact = new.path / "model.joblib"
    artifact.chmod(0o644)
    artifact.write_bytes(artifact.read_bytes()[:100])  # truncated: the load fails
    models.write_routing(root, new, generation=2)

    with caplog.at_level(logging.DEBUG, logger=watching.logger.name):
        for _ in range(3):  # the failed routing is retried after 30 s, not at every poll
            poll(reloader)
    warnings = warnings_of(caplog)
    assert len(warnings) == 1 and new.version in warnings[0], warnings
    assert reloader.last_error is not None and reloader.last_error.error == "load_failed"


def test_an_unreadable_routing_json_warns_once_per_distinct_failure(
    root: Path, two_versions: Versions, caplog: pytest.LogCaptureFixture
) -> None:
    reloader = serving(root, two_versions[0])
    paths = ModelPaths(root, models.MODEL)
    paths.routing.write_text('{"stable": ')
    with caplog.at_level(logging.DEBUG, logger=watching.logger.name):
        for _ in range(3):
            poll(reloader)
        paths.routing.write_text('{"stable": {"version": "x", "digest": "y"}}')
        poll(reloader)
    warnings = warnings_of(caplog)
    assert len(warnings) == 2, warnings
    assert "not valid JSON" in warnings[0] and "stable.version" in warnings[1], warnings
    assert reloader.last_error is not None and reloader.last_error.error == "poll_failed"
    assert reloader.state is not None and reloader.state.generation == 1, "still serving"
