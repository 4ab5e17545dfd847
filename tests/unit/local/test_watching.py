"""`watching.events` against a loopback server that answers a watch as the API server may: an
event, a blank keep-alive line, a line that is not JSON, and a second event. The client yields
None for the two lines in between; the helper passes only the events on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, watch

from hotswap import resources
from hotswap.local import watching
from tests.unit import loopback


def canary(name: str, version: str) -> dict[str, Any]:
    return {
        "type": "MODIFIED",
        "object": {
            "apiVersion": f"{resources.GROUP}/{resources.VERSION}",
            "kind": "Canary",
            "metadata": {"name": name, "resourceVersion": version},
            "status": {"stableVersion": f"{name}-{version}"},
        },
    }


LINES = [
    json.dumps(canary("intent", "11")),
    "",  # the keep-alive newline
    '{"type": "MODIFIED", "object": {"metadata"',  # cut short
    json.dumps(canary("intent", "12")),
]


class Watching(loopback.Quiet):
    def do_GET(self) -> None:  # noqa: N802 - the http.server spelling
        body = "".join(f"{line}\n" for line in LINES).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def custom() -> Iterator[client.CustomObjectsApi]:
    with loopback.serving(Watching) as (host, port):
        configuration = client.Configuration()
        configuration.host = f"http://{host}:{port}"
        api = client.ApiClient(configuration)
        try:
            yield client.CustomObjectsApi(api)
        finally:
            api.close()


def watch_args() -> tuple[Any, ...]:
    return (resources.GROUP, resources.VERSION, "default", resources.CANARIES)


def test_the_client_yields_none_for_the_blank_and_the_cut_line(
    custom: client.CustomObjectsApi,
) -> None:
    """The premise: without the helper a loop reading event["type"] would meet None twice."""
    stream = watch.Watch()  # type: ignore[no-untyped-call]
    found = list(
        stream.stream(  # type: ignore[no-untyped-call]
            custom.list_namespaced_custom_object, *watch_args(), timeout_seconds=1
        )
    )
    assert [None if e is None else e["type"] for e in found] == ["MODIFIED", None, None, "MODIFIED"]


def test_events_passes_on_only_the_events(custom: client.CustomObjectsApi) -> None:
    stream = watch.Watch()  # type: ignore[no-untyped-call]
    found = list(
        watching.events(
            stream, custom.list_namespaced_custom_object, *watch_args(), timeout_seconds=1
        )
    )
    versions = [e["object"]["metadata"]["resourceVersion"] for e in found]
    assert versions == ["11", "12"]
    assert [e["object"]["status"]["stableVersion"] for e in found] == ["intent-11", "intent-12"]
