"""What a connection writes leaves at the end of the event loop's pass: one write per
connection, in the order written, before anything that ends the stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import cast

import pytest
from hotswap_inference.connections import Batched, Outbox

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class Transport:
    """Records what reaches the socket, one entry per write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.events: list[str] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.events.append("write")

    def write_eof(self) -> None:
        self.events.append("eof")

    def close(self) -> None:
        self.closed = True
        self.events.append("close")

    def abort(self) -> None:
        self.closed = True
        self.events.append("abort")

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def connect(outbox: Outbox) -> tuple[Transport, Batched]:
    transport = Transport()
    return transport, Batched(cast(asyncio.Transport, transport), outbox)


def end_pass(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(asyncio.sleep(0))


def test_the_writes_of_one_pass_leave_at_its_end_one_write_per_connection(
    loop: asyncio.AbstractEventLoop,
) -> None:
    outbox = Outbox(loop)
    first, a = connect(outbox)
    second, b = connect(outbox)
    a.write(HEAD)
    b.write(HEAD + b"{}")
    a.write(b"{}")
    a.write(bytearray(b"!"))
    assert first.writes == [] and second.writes == [], "nothing leaves during the pass"
    assert a.get_write_buffer_size() == len(HEAD) + 3
    end_pass(loop)
    assert first.writes == [HEAD + b"{}!"]
    assert second.writes == [HEAD + b"{}"]


def test_a_later_pass_writes_again_in_order(loop: asyncio.AbstractEventLoop) -> None:
    outbox = Outbox(loop)
    transport, connection = connect(outbox)
    connection.write(b"one")
    end_pass(loop)
    connection.write(b"two")
    connection.write(b"")  # nothing: no empty write reaches the socket
    end_pass(loop)
    end_pass(loop)
    assert transport.writes == [b"one", b"two"]


def test_what_ends_the_stream_sends_what_waits_first(loop: asyncio.AbstractEventLoop) -> None:
    outbox = Outbox(loop)
    closing, closed = connect(outbox)
    closed.write(b"answer")
    closed.close()
    assert closing.events == ["write", "close"] and closing.writes == [b"answer"]
    ending, ended = connect(outbox)
    ended.writelines([b"refused", b"!"])
    ended.write_eof()
    assert ending.events == ["write", "eof"] and ending.writes == [b"refused!"]
    end_pass(loop)
    assert closing.writes == [b"answer"] and ending.writes == [b"refused!"], "sent once"


def test_a_lost_connection_or_an_abort_sends_nothing(loop: asyncio.AbstractEventLoop) -> None:
    outbox = Outbox(loop)
    lost, gone = connect(outbox)
    gone.write(b"answer")
    lost.closed = True  # the peer went away during the pass
    aborting, aborted = connect(outbox)
    aborted.write(b"answer")
    aborted.abort()
    end_pass(loop)
    assert lost.writes == [] and aborting.writes == []
    assert aborting.events == ["abort"]


def test_everything_else_is_the_transport_s_own(loop: asyncio.AbstractEventLoop) -> None:
    transport, connection = connect(Outbox(loop))
    assert connection.get_extra_info("peername") == "info:peername"
    assert connection.is_closing() is False
    transport.closed = True
    assert connection.is_closing() is True


def test_a_connection_whose_write_fails_is_aborted_and_the_others_still_send(
    loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(loop)
    broken, failing = connect(outbox)
    healthy, fine = connect(outbox)

    def refuse(data: bytes) -> None:
        raise RuntimeError("Cannot call write() after write_eof()")

    broken.write = refuse  # type: ignore[method-assign]
    failing.write(b"answer")
    fine.write(b"answer")
    end_pass(loop)
    assert healthy.writes == [b"answer"], "the pass's other answers leave"
    assert broken.events == ["abort"] and broken.closed
    assert "Exception sending a connection's answers" in caplog.text
