"""`POST /predict` answered on the spot (connections.Shortcut): the same bytes as uvicorn's
ASGI path, counted once, and every request it does not answer served by that path as before.

The twin of each shortcut answer is the same request sent in two reads (the head, then the
body after a pause): its body is not whole at the end of the first read, so it takes the ASGI
path. `pool.shortcuts` (how many requests the shortcut answered) proves which path ran.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import models, pods
from .compiled import skip_if_compiled

STICKY = "X-User"


@pytest.fixture(scope="module")
def pod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pods.Pod]:
    root = tmp_path_factory.mktemp("volume")
    stable, canary = models.publish_text(root), models.publish_text(root, seed=1)
    models.write_routing(root, stable, canary, weight=50, sticky_header=STICKY, generation=1)
    pod = pods.Pod(pods.pod_settings(root)).start()
    pod.wait_ready()
    yield pod
    pod.stop()


def request(
    body: bytes,
    *,
    content_type: str = "application/json",
    version: str = "1.1",
    extra: str = "",
) -> tuple[bytes, bytes]:
    """The head and body of a POST /predict."""
    head = (
        f"POST /predict HTTP/{version}\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode(), body


class Answers:
    """The answers coming back on one connection, one whole answer at a time."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn, self.data = conn, b""

    def next(self) -> bytes:
        while b"\r\n\r\n" not in self.data:
            self.receive()
        head, _, rest = self.data.partition(b"\r\n\r\n")
        found = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
        assert found is not None, head
        length = int(found[1])
        while len(rest) < length:
            self.receive()
            head, _, rest = self.data.partition(b"\r\n\r\n")
        self.data = rest[length:]
        return head + b"\r\n\r\n" + rest[:length]

    def receive(self) -> None:
        chunk = self.conn.recv(65536)
        assert chunk, "the server closed the connection before a whole answer"
        self.data += chunk


def read_answer(conn: socket.socket) -> bytes:
    """The one answer to the one request sent on `conn`: nothing follows it."""
    answers = Answers(conn)
    answer = answers.next()
    assert answers.data == b"", f"more than one answer: {answers.data!r}"
    return answer


def ask(pod: pods.Pod, head: bytes, body: bytes, *, split: bool) -> bytes:
    """The raw answer to one request, sent in one write or as head then body."""
    with socket.create_connection(address(pod), timeout=10) as conn:
        send(conn, head, body, split=split)
        return read_answer(conn)


def send(conn: socket.socket, head: bytes, body: bytes, *, split: bool, pause: float = 0.2) -> None:
    """One request in one write, or the head, a pause (the server reads it alone), the body."""
    if split:
        conn.sendall(head)
        time.sleep(pause)
        conn.sendall(body)
    else:
        conn.sendall(head + body)


def address(pod: pods.Pod) -> tuple[str, int]:
    host, port = pod.url.removeprefix("http://").split(":")
    return host, int(port)


def shortcuts(pod: pods.Pod) -> int:
    return pod.servers[0].config.http_protocol_class.keywords["pool"].shortcuts  # type: ignore[attr-defined,no-any-return]


def masked(answer: bytes) -> bytes:
    """Without what differs between two answers to one request: the date, the token's time."""
    answer = re.sub(rb"date: [^\r]*\r\n", b"date: -\r\n", answer)
    answer = re.sub(rb"x-feedback-token: [^\r]*", b"x-feedback-token: -", answer)
    return re.sub(rb'"feedback_token":"[^"]*"', b'"feedback_token":"-"', answer)


@pytest.mark.parametrize(
    "content",
    [
        {"input": "I would like a pizza"},
        {"inputs": ["hi there", 'Ünïcödé 東京 "quoted" \\ text', "refund please"]},
    ],
)
@pytest.mark.parametrize("user", ["alice", "bob", "carol"])
def test_an_answer_on_the_spot_is_byte_for_byte_the_asgi_paths(
    pod: pods.Pod, content: dict[str, Any], user: str
) -> None:
    head, body = request(
        json.dumps(content).encode(), extra=f"{STICKY}: {user}\r\nX-Request-Id: req-{user}\r\n"
    )
    before = shortcuts(pod)
    fast = ask(pod, head, body, split=False)
    assert shortcuts(pod) == before + 1, "the premise: the shortcut answered the whole request"
    slow = ask(pod, head, body, split=True)
    assert shortcuts(pod) == before + 1, "the premise: the split request took the ASGI path"
    assert fast.startswith(b"HTTP/1.1 200 OK\r\n"), fast
    assert b"x-feedback-token: 1." in fast and b"date: " in fast, fast
    assert masked(fast) == masked(slow)


@pytest.mark.parametrize(
    ("given", "echoed"),
    [
        ("req-\u00e9", True),  # UTF-8 c3 a9: two printable latin-1 characters
        ("req-\u6771", False),  # UTF-8 e6 9d b1: 9d is a control character
        ("a" * 128, True),
        ("a" * 129, False),
        ("tab\there", False),
    ],
)
def test_a_callers_request_id_is_echoed_or_replaced_as_on_the_asgi_path(
    pod: pods.Pod, given: str, echoed: bool
) -> None:
    extra = f"{STICKY}: alice\r\nX-Request-Id: {given}\r\n"  # one arm for both answers
    head, body = request(b'{"input": "hello"}', extra=extra)
    before = shortcuts(pod)
    fast = ask(pod, head, body, split=False)
    slow = ask(pod, head, body, split=True)
    assert shortcuts(pod) == before + 1, "the premise: one answer on the spot, one through ASGI"
    sent = given.encode()  # as the caller's bytes, which the answer carries back unchanged
    assert (b"x-request-id: " + sent + b"\r\n" in fast) is echoed, fast
    assert (b"x-request-id: " + sent + b"\r\n" in slow) is echoed, slow

    def without_id(answer: bytes) -> bytes:
        answer = re.sub(rb"x-request-id: [^\r]*", b"x-request-id: -", masked(answer))
        return re.sub(rb'"request_id":"[^"]*"', b'"request_id":"-"', answer)

    assert without_id(fast) == without_id(slow)
    if echoed:
        assert masked(fast) == masked(slow)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (b"{not json", "application/json", 400, "bad_input"),
        (b'{"input": ""}', "application/json", 400, "bad_input"),
        (b'{"input": 3}', "application/json", 400, "bad_input"),
        (b'{"input": "hi"}', "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_a_refused_request_takes_the_asgi_path_and_is_counted_once(
    pod: pods.Pod, body: bytes, content_type: str, status: int, error: str
) -> None:
    head, _ = request(body, content_type=content_type, extra="X-Request-Id: refused\r\n")
    before, counted = shortcuts(pod), failures(pod, status)
    answer = ask(pod, head, body, split=False)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"] == error
    assert b"x-request-id: refused" in answer, "routed first, as before: the headers say where"
    assert shortcuts(pod) == before, "the shortcut gave no answer"
    assert failures(pod, status) == counted + 1, "counted once, by the ASGI path"


def failures(pod: pods.Pod, status: int) -> float:
    name, labels = "hotswap_inference_requests_total", {"code": str(status)}
    return sum(
        sample.value
        for metric in pod.registry.collect()
        for sample in metric.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def answered(pod: pods.Pod) -> float:
    return failures(pod, 200)


def test_pipelined_requests_are_answered_in_order_and_each_counted_once(pod: pods.Pod) -> None:
    """Three requests in one write, answered on the spot; then one behind a request of the
    ASGI path still being answered, which waits its turn on that path."""
    ids = ["first", "second", "third"]
    sent = [request(b'{"input": "hello"}', extra=f"X-Request-Id: {i}\r\n") for i in ids]
    probe = b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    before, counted = shortcuts(pod), answered(pod)
    with socket.create_connection(address(pod), timeout=10) as conn:
        conn.sendall(b"".join(head + body for head, body in sent))
        coming = Answers(conn)
        answers = [coming.next() for _ in sent]
        assert shortcuts(pod) == before + 3
        conn.sendall(probe + sent[0][0] + sent[0][1])
        behind = [coming.next() for _ in range(2)]
    assert all(a.startswith(b"HTTP/1.1 200 OK\r\n") for a in answers + behind), answers
    assert [re.findall(rb"x-request-id: (\w+)", a) for a in answers] == [[i.encode()] for i in ids]
    assert b'"status":"ready"' in behind[0] and b"x-request-id: first" in behind[1]
    assert shortcuts(pod) == before + 3, "behind a request in flight: the ASGI path"
    assert answered(pod) == counted + 4


def test_keep_alive_and_http_1_0_are_as_uvicorn_answers_them(pod: pods.Pod) -> None:
    head, body = request(b'{"input": "hello"}')
    with socket.create_connection(address(pod), timeout=10) as conn:
        for _ in range(2):  # kept alive: both on one connection
            conn.sendall(head + body)
            assert b"connection: close" not in read_answer(conn)
    old_head, old_body = request(b'{"input": "hello"}', version="1.0")
    for split in (False, True):
        with socket.create_connection(address(pod), timeout=10) as conn:
            send(conn, old_head, old_body, split=split)
            answer = read_answer(conn)
            assert b"connection: close\r\n" in answer, answer
            assert conn.recv(1) == b"", "closed after the answer"


def test_a_guarded_pod_answers_through_the_asgi_path(make_pod: Any, root: Path) -> None:
    models.write_routing(root, models.publish_text(root))
    guarded = make_pod(api_keys=("secret-key",))
    head, body = request(b'{"input": "hello"}', extra="Authorization: Bearer secret-key\r\n")
    assert ask(guarded, head, body, split=False).startswith(b"HTTP/1.1 200 OK\r\n")
    refused, _ = request(body)
    assert ask(guarded, refused, body, split=False).startswith(b"HTTP/1.1 401 ")
    assert shortcuts(guarded) == 0, "keys and rate limits are judged on the ASGI path"


def test_a_failure_past_counting_answers_500_and_the_pod_serves_on(
    pod: pods.Pod, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug after the request was counted (here the query log): the answer uvicorn's path
    gives to an unexpected error, the connection closed, one logged traceback."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    head, body = request(b'{"input": "hello"}')
    skip_if_compiled(pod.service, "log_predictions")
    with monkeypatch.context() as patched:
        patched.setattr(pod.service, "log_predictions", broken)
        with socket.create_connection(address(pod), timeout=10) as conn:
            conn.sendall(head + body)
            answer = read_answer(conn)
            assert conn.recv(1) == b"", "closed after the answer"
    assert answer.startswith(b"HTTP/1.1 500 "), answer
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"] == "internal_error"
    assert any("on the spot" in r.getMessage() and r.exc_info for r in caplog.records)
    assert ask(pod, head, body, split=False).startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize("split", [False, True])
def test_a_busy_connection_outlives_the_head_deadline_on_either_path(
    make_pod: Any, root: Path, split: bool
) -> None:
    """Requests on one connection for three head deadlines: all answered, nothing refused.
    (The connection's first head deadline, armed when it opened, once outlived the shortcut's
    answers: every connection got a 408 and was closed 10 s after it opened under load.)"""
    models.write_routing(root, models.publish_text(root))
    pod = make_pod(header_timeout=0.4, keepalive_timeout=3.0)
    head, body = request(b'{"input": "hello"}')
    deadline = time.monotonic() + 1.2
    answers = []
    with socket.create_connection(address(pod), timeout=10) as conn:
        while time.monotonic() < deadline:
            send(conn, head, body, split=split, pause=0.05)
            answers.append(read_answer(conn))
            time.sleep(0.1)
    assert len(answers) >= 6 and all(a.startswith(b"HTTP/1.1 200 OK\r\n") for a in answers)
    assert shortcuts(pod) == (0 if split else len(answers)), "the premise: the path it says"


def test_after_an_answer_on_the_spot_an_idle_connection_gets_no_408_but_a_late_head_does(
    make_pod: Any, root: Path
) -> None:
    models.write_routing(root, models.publish_text(root))
    pod = make_pod(header_timeout=0.4, keepalive_timeout=3.0)
    head, body = request(b'{"input": "hello"}')
    with socket.create_connection(address(pod), timeout=10) as conn:
        conn.sendall(head + body)
        read_answer(conn)
        time.sleep(1.0)  # idle past the head deadline, within the keep-alive timeout
        conn.sendall(head + body)
        assert read_answer(conn).startswith(b"HTTP/1.1 200 OK\r\n"), "idle is not a late head"
        conn.sendall(head + body + head[:20])  # an answer, then a head that never ends
        coming = Answers(conn)
        assert coming.next().startswith(b"HTTP/1.1 200 OK\r\n")
        late = coming.next()
    assert late.startswith(b"HTTP/1.1 408 "), late
    assert shortcuts(pod) == 3


def test_a_connection_answered_on_the_spot_closes_when_idle_for_the_keep_alive_timeout(
    make_pod: Any, root: Path
) -> None:
    """The keep-alive deadline after answers on the spot is checked lazily (one timer per
    period): a connection asked every 0.4 s stays open past several periods of 1 s, and is
    closed once idle for 1 s, not before."""
    models.write_routing(root, models.publish_text(root))
    pod = make_pod(keepalive_timeout=1.0)
    head, body = request(b'{"input": "hello"}')
    with socket.create_connection(address(pod), timeout=10) as conn:
        started = idle = time.monotonic()
        while idle - started < 2.6:  # answers spanning three keep-alive periods
            if idle > started:
                time.sleep(0.4)
            conn.sendall(head + body)
            assert read_answer(conn).startswith(b"HTTP/1.1 200 OK\r\n"), "closed while busy"
            idle = time.monotonic()
        assert shortcuts(pod) >= 6, "the premise: every answer came on the spot"
        conn.settimeout(0.6)  # idle for over half the timeout: still open
        with pytest.raises(TimeoutError):
            conn.recv(1)
        conn.settimeout(3.0)
        assert conn.recv(1) == b"", "closed by the server once idle"
        assert 1.0 - 0.05 <= time.monotonic() - idle <= 2.0
