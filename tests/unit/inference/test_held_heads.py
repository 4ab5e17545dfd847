"""A response head waits for its body, so both leave in one write (one send() system call)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from hotswap_inference.connections import HeldHead

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class Transport:
    """Records what reaches the socket, one entry per write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class Cycle:
    """The two things `HeldHead.wrap` touches on uvicorn's RequestResponseCycle."""

    def __init__(self, transport: Transport) -> None:
        self.transport: Any = transport
        self.answered = 0

    def on_response(self) -> None:
        self.answered += 1


def wrapped() -> tuple[Transport, Cycle]:
    transport = Transport()
    cycle = Cycle(transport)
    HeldHead.wrap(cycle, cast(asyncio.Transport, transport))
    return transport, cycle


def test_head_and_body_leave_in_one_write() -> None:
    transport, cycle = wrapped()
    cycle.transport.write(HEAD)
    assert transport.writes == [], "the head is held until the body comes"
    cycle.transport.write(b"{}")
    assert transport.writes == [HEAD + b"{}"]


def test_later_body_chunks_pass_as_written_even_when_they_look_like_a_head() -> None:
    transport, cycle = wrapped()
    for chunk in (HEAD, b"a", HEAD):
        cycle.transport.write(chunk)
    assert transport.writes == [HEAD + b"a", HEAD]


def test_a_100_continue_is_not_held() -> None:
    transport, cycle = wrapped()
    cycle.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    cycle.transport.write(HEAD)
    cycle.transport.write(b"{}")
    assert transport.writes[1:] == [HEAD + b"{}"]


def test_a_head_without_body_leaves_when_the_response_ends_or_the_connection_closes() -> None:
    transport, cycle = wrapped()
    cycle.transport.write(HEAD)  # a HEAD request's answer writes no body
    cycle.on_response()
    assert transport.writes == [HEAD] and cycle.answered == 1
    closing, other = wrapped()
    other.transport.write(HEAD)
    other.transport.close()
    assert closing.writes == [HEAD] and closing.closed


def test_a_cycle_is_wrapped_once() -> None:
    transport, cycle = wrapped()
    held = cycle.transport
    HeldHead.wrap(cycle, cast(asyncio.Transport, transport))
    assert cycle.transport is held
