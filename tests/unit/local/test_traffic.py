"""The load loop against a server that closes idle keep-alive connections (as uvicorn does after
its keep-alive timeout): a connection closed meanwhile is reopened before the next request, so
that close is not counted as a failed request; without the check the same sequence fails."""

from __future__ import annotations

import http.client
import http.server
import json
import time
from collections.abc import Iterator

import pytest

from hotswap.local import traffic
from hotswap.local.tallies import Tally
from tests.unit import loopback

IDLE_SECONDS = 0.2  # the server closes a connection idle this long


class Answering(loopback.Quiet):
    protocol_version = "HTTP/1.1"  # keep-alive
    timeout = IDLE_SECONDS

    def do_POST(self) -> None:  # noqa: N802 - the http.server spelling
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"label": "greeting"}).encode()
        self.send_response(200)
        for name, value in (("X-Model-Version", "v1"), ("X-Model-Arm", "stable")):
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    with loopback.serving(Answering) as target:
        yield target


def two_requests_apart(target: tuple[str, int], *, check: bool) -> Tally:
    tally, conn = Tally(), http.client.HTTPConnection(*target, timeout=5)
    for n in range(2):
        if check:
            traffic._reopen_if_closed(conn)
        traffic._one_request(conn, n, tally, None)
        time.sleep(IDLE_SECONDS * 3)  # the server closes the idle connection meanwhile
    conn.close()
    return tally


def test_a_connection_closed_while_idle_is_reopened(server: tuple[str, int]) -> None:
    seen = two_requests_apart(server, check=True)
    assert (seen.answered, dict(seen.failures)) == (2, {}), seen


def test_without_the_check_the_closed_connection_fails_the_request(
    server: tuple[str, int],
) -> None:
    seen = two_requests_apart(server, check=False)
    assert (seen.answered, seen.failed) == (1, 1), seen


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.100.9", "localhost", "10.244.0.7"])
def test_load_goes_to_loopback_or_the_node_tiers_pod_addresses(host: str) -> None:
    assert traffic.Load(targets=((host, 8000),)).targets == ((host, 8000),)


@pytest.mark.parametrize(
    "host", ["8.8.8.8", "example.com", "10.0.0.5", "192.168.1.10", "10.244.1.7"]
)
def test_load_refuses_any_other_address_or_a_name(host: str) -> None:
    """A LAN's private addresses too: only this machine's loopback and its node bridge."""
    with pytest.raises(ValueError, match=r"give 127\.0\.0\.0/8 addresses, or pod addresses"):
        traffic.Load(targets=((host, 8000),))
