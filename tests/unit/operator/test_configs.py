"""The operator re-reads its reload token file: a rotated Secret reaches it as it reaches pods."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hotswap_operator import reloading, runtimes
from hotswap_operator.reloading import Pod

from tests.unit import loopback


def environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HOTSWAP_MODEL_ROOT": str(tmp_path)} | extra


def test_the_token_file_is_read_again_after_a_rotation(tmp_path: Path) -> None:
    token_file = tmp_path / "reload-token"
    token_file.write_text("first-token\n")
    config = runtimes.load_config(environ(tmp_path, HOTSWAP_RELOAD_TOKEN_FILE=str(token_file)))
    assert config.reload_token == "first-token"
    rotated = tmp_path / "rotated"
    rotated.write_text("second-token\n")
    rotated.replace(token_file)  # as the kubelet's AtomicWriter swaps a Secret's files
    assert config.reload_token == "second-token"


def test_the_env_token_is_used_without_a_file(tmp_path: Path) -> None:
    config = runtimes.load_config(environ(tmp_path, HOTSWAP_RELOAD_TOKEN="from-env"))
    assert config.reload_token == "from-env"
    assert runtimes.load_config(environ(tmp_path)).reload_token is None


def test_a_missing_token_file_is_refused_at_startup(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    with pytest.raises(runtimes.ConfigError, match="HOTSWAP_RELOAD_TOKEN_FILE"):
        runtimes.load_config(environ(tmp_path, HOTSWAP_RELOAD_TOKEN_FILE=str(missing)))


def test_a_token_file_that_vanishes_later_names_the_setting(tmp_path: Path) -> None:
    token_file = tmp_path / "reload-token"
    token_file.write_text("t")
    config = runtimes.load_config(environ(tmp_path, HOTSWAP_RELOAD_TOKEN_FILE=str(token_file)))
    token_file.unlink()
    with pytest.raises(runtimes.ConfigError, match="HOTSWAP_RELOAD_TOKEN_FILE"):
        _ = config.reload_token


class AdminPort(loopback.Quiet):
    """A pod's admin port that checks the token from a file on every request, as pods do."""

    token_file: Path

    def do_GET(self) -> None:  # noqa: N802 - the http.server spelling
        expected = f"Bearer {self.token_file.read_text().strip()}"
        ok = self.headers.get("Authorization") == expected
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}" if ok else b'{"error": "unauthorized"}')


@pytest.fixture
def pod(tmp_path: Path) -> Iterator[tuple[Pod, Path]]:
    pod_token = tmp_path / "pod-token"
    handler = type("Handler", (AdminPort,), {"token_file": pod_token})
    with loopback.serving(handler) as (host, port):
        yield Pod("pod-0", host, port), pod_token


def test_after_a_rotation_the_pods_accept_the_operators_signals(
    tmp_path: Path, pod: tuple[Pod, Path]
) -> None:
    """Both sides mount the same Secret: after it rotates the pod expects the new token, and the
    operator (one Config for its whole life) sends it, instead of 401 for ever."""
    target, pod_token = pod
    operator_token = tmp_path / "operator-token"
    for path in (pod_token, operator_token):
        path.write_text("old-token")
    config = runtimes.load_config(environ(tmp_path, HOTSWAP_RELOAD_TOKEN_FILE=str(operator_token)))

    def status_code() -> int:
        reply = reloading.read_pods([target], token=config.reload_token, timeout=5)[0]
        return reply.code

    assert status_code() == 200
    pod_token.write_text("new-token")
    assert status_code() == 401, "the premise: a pod with the new token refuses the old one"
    operator_token.write_text("new-token")
    assert status_code() == 200
