"""`hotswap local ...` against a real pod on loopback: signalled pods serve a change at once
(their poll is set to an hour, so only the signal can have delivered it)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotswap.cli import main
from hotswap.local import replicas
from hotswap.store.layout import ModelPaths
from tests.unit.inference import pods

HOUR = 3600.0


@pytest.fixture
def pod(root: Path, three: list[str]) -> Iterator[pods.Pod]:
    with pods.Pod(pods.pod_settings(root, poll_interval=HOUR)) as started:
        yield started


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HOTSWAP_RELOAD_TOKEN", pods.TOKEN)
    monkeypatch.delenv("HOTSWAP_ADMIN", raising=False)
    return pods.TOKEN


def local(root: Path, *args: str, admin: str | None = None) -> int:
    extra = ["--admin", admin.removeprefix("http://")] if admin else []
    return main(["local", *args, "--root", str(root), *extra])


def served(pod: pods.Pod) -> tuple[int | None, tuple[str, ...], int]:
    report = pod.service.report()
    routing = report.routing
    return report.generation, report.versions, routing.weight if routing else -1


def test_signalled_pod_serves_each_change_at_once(
    root: Path, three: list[str], pod: pods.Pod, token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert local(root, "deploy", three[0], admin=pod.admin_url) == 0
    after_deploy = served(pod)
    assert local(root, "canary", three[1], "--weight", "30", admin=pod.admin_url) == 0
    after_canary = served(pod)
    assert local(root, "promote", admin=pod.admin_url) == 0

    assert after_deploy == (1, (three[0],), 0)
    assert after_canary == (2, (three[0], three[1]), 30)
    assert served(pod) == (3, (three[1],), 0)
    assert capsys.readouterr().out.count(": serves it: generation") == 3


def test_a_pod_refusing_the_token_is_reported_and_the_exit_code_says_so(
    root: Path,
    three: list[str],
    pod: pods.Pod,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOTSWAP_RELOAD_TOKEN", "not-the-pods-token")

    code = local(root, "deploy", admin=pod.admin_url)

    out = capsys.readouterr().out
    assert code == 1 and "HTTP 401" in out and "1 of 1 pods do not serve" in out, out
    assert served(pod)[0] is None, "the pod took a routing it should have refused"


def test_status_waits_until_the_pod_serves_what_is_declared(
    root: Path, three: list[str], token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert local(root, "deploy", three[2]) == 0  # no pod yet: only routing.json
    with pods.Pod(pods.pod_settings(root, poll_interval=0.2)) as pod:
        code = local(root, "status", "--wait", "30", admin=pod.admin_url)

    out = capsys.readouterr().out
    assert code == 0 and f"serves it: generation 1: stable {three[2]}" in out, out


def test_status_of_a_pod_that_is_not_there_fails_after_the_wait(
    root: Path, three: list[str], token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    local(root, "deploy")

    code = local(root, "status", "--wait", "0.5", admin="127.0.0.1:9")

    assert code == 1 and "unreachable at 127.0.0.1:9" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deploy", "--admin", "localhost"], "is not host:port"),
        (["deploy", "--model", "Not_A_Name"], "is not a DNS label"),
        (["weight", "30"], "no canary runs"),
        (["canary", "--weight", "101"], "weight must be an integer 0-100"),
    ],
)
def test_bad_input_is_an_error_naming_the_fix(
    root: Path,
    three: list[str],
    token: str,
    args: list[str],
    *,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    local(root, "deploy", three[0])

    code = main(["local", *args, "--root", str(root)])

    assert code == 2 and message in capsys.readouterr().err


def test_admin_without_a_token_is_refused_before_anything_changes(
    root: Path, three: list[str], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.delenv("HOTSWAP_RELOAD_TOKEN", raising=False)

    code = local(root, "deploy", admin="127.0.0.1:8001")

    assert code == 2 and "HOTSWAP_RELOAD_TOKEN" in capsys.readouterr().err
    assert not ModelPaths(root, "intent").routing.exists()


def test_free_ports_are_distinct_and_free_on_the_host() -> None:
    """Chosen one socket at a time, each closed before the next pick, 200 ports held a repeat
    in 138 of 200 tries (the kernel hands a just-closed port out again); a replica's three
    ports must never share one."""
    ports = replicas.free_ports(200, "127.0.0.7")
    assert len(set(ports)) == 200, sorted(ports)
    with contextlib.ExitStack() as stack:  # every one can be bound now
        for port in ports:
            stack.enter_context(socket.create_server(("127.0.0.7", port)))
