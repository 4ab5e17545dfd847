"""Connections of the three servers: a bounded request head, deadlines, a bounded count.

uvicorn's httptools protocol has none of these: httptools buffers a header until it ends (64 MB
of headers were accepted), its keep-alive timer stops at the first byte (a slowloris client is
never closed), and `limit_concurrency` answers 503 only once a head is in while idle sockets
still hold file descriptors. `Protocol` adds, per connection:
- a head (request line and headers) over `max_header_bytes`: 431, connection closed;
- a head not complete `header_timeout` s after the connection opened (or after the first byte
  that followed an answer): 408, closed;
- a body not complete `body_timeout` s after its head: closed (the request sees the client
  go, `errors.ClientGone`);
- an idle keep-alive connection: closed after `keepalive_timeout` s (uvicorn's own timer);
and per server (`Pool`) at most `capacity` connections: one more closes the connection idle the
longest (no request in flight: waiting for a head or between requests), as nginx reuses idle
connections; when every connection has a request in flight, the newcomer gets 503.
A refusal is written, the sending side shut and what the client still sends dropped for
`LINGER_SECONDS` before the close, so the client reads the answer rather than a reset.
A timer is armed only while a head or body is incomplete at the end of a read, so a request
that arrives in one read costs no timer.

On the serving port a `POST /predict` that arrives whole in one read may be answered on the
spot (`Shortcut`): its body is collected in the parser's callbacks and handed to
`endpoints.answer_at_once`; the answer is written at once, with the head uvicorn would write,
and no task, request cycle or ASGI message is made. When it gives no answer (a refusal, a
guard, a model for the threadpool), when the body is over the limit or not whole at the end
of the read, or a request of the connection is still being answered, the request takes
uvicorn's path as any other (with what of its body came), so deadlines, a client leaving
mid-body and a shutdown meet only requests on that path.

Whatever a connection writes waits in the loop's `Outbox` and leaves at the end of the loop's
pass, one send() per connection (head and body together): on loopback a send one by one woke
the client each time, a fifth of a text request's CPU.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from prometheus_client import CollectorRegistry, Counter
from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import (
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
)
from uvicorn.server import ServerState

log = logging.getLogger(__name__)
SMALL_SERVER_CONNECTIONS = 32  # the admin and metrics ports: one operator, one Prometheus
RESERVED_FILES = 2 * SMALL_SERVER_CONNECTIONS + 64  # those, models, logs, the loop's own
LINGER_SECONDS = 1.0  # after a refusal: read and drop what the client still sends
HEAD, BODY, RUNNING, REFUSED = "head", "body", "running", "refused"
ANSWERED = "answered"  # the shortcut answered the last message of this read: no head pending


@dataclass(frozen=True)
class Policy:
    max_header_bytes: int
    header_timeout: float
    body_timeout: float
    keepalive_timeout: float


class Pool:
    """The open connections of one server; the idle ones in the order they became idle."""

    def __init__(self, policy: Policy, *, capacity: int, closed: Counter, server: str) -> None:
        self.policy = policy
        self.capacity = capacity
        self.open: set[Protocol] = set()
        self.idle: dict[Protocol, None] = {}
        self.closed = {reason: closed.labels(server, reason) for reason in REASONS}
        self.shortcuts = 0  # requests answered on the spot (`Shortcut`)
        self._outbox: Outbox | None = None

    def outbox(self, loop: asyncio.AbstractEventLoop) -> Outbox:
        """The outbox of this server's connections on `loop`."""
        if self._outbox is None or self._outbox.loop is not loop:
            self._outbox = Outbox(loop)
        return self._outbox

    def admit(self, connection: Protocol) -> None:
        self.open.add(connection)
        self.idle[connection] = None
        if len(self.open) > self.capacity:
            oldest = next(iter(self.idle))
            if oldest is connection:
                connection.refuse(503, "overloaded", OVERLOADED)
            else:
                oldest.close("evicted")

    def busy(self, connection: Protocol) -> None:
        self.idle.pop(connection, None)

    def rest(self, connection: Protocol) -> None:
        if connection in self.open:
            self.idle.pop(connection, None)
            self.idle[connection] = None  # the newest idle: evicted last

    def leave(self, connection: Protocol, reason: str | None = None) -> None:
        if connection in self.open and reason is not None:
            self.closed[reason].inc()
        self.open.discard(connection)
        self.idle.pop(connection, None)


REASONS = ("header_too_large", "header_timeout", "body_timeout", "evicted", "overloaded")
OVERLOADED = "every connection of this server has a request in flight: retry shortly"
UNEXPECTED = "the server failed: retry, or report it"  # errors.handle_unexpected's message


Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Shortcut:
    """`POST /predict` answered on the spot: `answer(headers, body)` gives the answer's header
    lines (`header_lines`) and body, or None to hand the request on; a body over
    `max_body_bytes` is handed on unread."""

    answer: Callable[[Headers, bytes], tuple[bytes, bytes] | None]
    max_body_bytes: int


class Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above; `pool` (and on the serving port
    `shortcut`) are given per server (`protocol_factory`)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        pool: Pool,
        shortcut: Shortcut | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.pool = pool
        self.shortcut = shortcut
        # uvicorn's own timer reads it; compiled code here reads the policy's float (uvicorn
        # declares this attribute an int, which compiled code would check)
        self.timeout_keep_alive = pool.policy.keepalive_timeout  # type: ignore[assignment]
        self.stage = HEAD
        self.head_bytes = 0  # of the head being read, counted at the end of each read
        self.chunk_bytes = 0  # of the read being parsed
        self.ended = False  # a message ended during the read being parsed
        self.deadline: asyncio.TimerHandle | None = None
        self.deadline_stage = ""
        self.held: bytearray | None = None  # the body of a request the shortcut may answer
        self.idle_since: float | None = None  # since the last answer on the spot; None: busy
        self.idle_deadline: asyncio.TimerHandle | None = None  # checks idle_since when due

    # connection
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        batched = Batched(transport, self.pool.outbox(self.loop))
        super().connection_made(batched)  # type: ignore[arg-type]
        self.arm(HEAD)
        self.pool.admit(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm()
        if self.idle_deadline is not None:
            self.idle_deadline.cancel()
        self.pool.leave(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.stage == REFUSED:
            return  # answered and lingering: dropped
        self.chunk_bytes, self.ended, self.idle_since = len(data), False, None
        super().data_received(data)  # a parse error closes: connection_lost disarms after
        if self.held is not None:
            self.hand_on()  # its body did not come whole in this read: uvicorn's path waits
        if self.stage == HEAD:
            self.read_head(len(data))
        elif self.stage == BODY:
            self.arm(BODY)
        else:
            self.disarm()
        if self.stage == ANSWERED:
            self.stage = HEAD  # idle, as after any answer: the keep-alive timer runs

    def read_head(self, size: int) -> None:
        """Count a head that is still incomplete after this read; refuse it when too large."""
        if not self.ended:  # else this read also held earlier messages: count from the next
            self.head_bytes += size
        if self.head_bytes > self.pool.policy.max_header_bytes:
            self.refuse(431, "header_too_large", self.too_large())
        else:
            self.arm(HEAD)

    # parser callbacks
    def on_message_begin(self) -> None:
        """What uvicorn's `on_message_begin` resets; its ASGI scope is made in `begin_scope`,
        only for a request that goes through its request cycle (an answer on the spot needs
        none: the scope's dicts and the app state's copy were ~1.5% of a text request)."""
        self.url, self.expect_100_continue, self.headers = b"", False, []
        self.stage = HEAD

    def begin_scope(self) -> None:
        """uvicorn's scope of the request whose head is in, made by its own `on_message_begin`,
        with the url and headers the parser's callbacks gathered since."""
        url, headers, expect_100_continue = self.url, self.headers, self.expect_100_continue
        super().on_message_begin()
        self.url, self.expect_100_continue = url, expect_100_continue
        self.headers = self.scope["headers"] = headers

    def on_headers_complete(self) -> None:
        self.stage = BODY
        self.pool.busy(self)
        limit = self.pool.policy.max_header_bytes
        if self.head_bytes + self.chunk_bytes > limit and self.head_size() > limit:
            app, self.app = self.app, refusal_app(431, "header_too_large", self.too_large())
            self.pool.closed["header_too_large"].inc()
            try:
                self.begin_scope()
                super().on_headers_complete()
            finally:
                self.app = app
            return
        if self.may_shortcut():
            self.held = bytearray()
            return
        self.start_cycle()

    def start_cycle(self) -> None:
        """uvicorn's request cycle and ASGI task for the request whose head is in."""
        self.begin_scope()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self.held is None:
            super().on_body(body)
            return
        self.held += body
        if self.shortcut is not None and len(self.held) > self.shortcut.max_body_bytes:
            self.hand_on()

    def on_message_complete(self) -> None:
        if self.held is not None:
            body, self.held = bytes(self.held), None
            if self.answer_at_once(body):
                self.head_bytes, self.ended = 0, True
                return
            self.cycle_with(body)
        super().on_message_complete()
        self.stage = HEAD if self.cycle.response_complete else RUNNING
        self.head_bytes, self.ended = 0, True

    # the shortcut
    def may_shortcut(self) -> bool:
        """A `POST /predict` with nothing before it still being answered, no upgrade and no
        `Expect: 100-continue` (uvicorn answers those)."""
        return (
            self.shortcut is not None
            and self.url == b"/predict"
            and self.parser.get_method() == b"POST"
            and not self.expect_100_continue
            and (self.cycle is None or self.cycle.response_complete)
            and not self.parser.should_upgrade()
        )

    def hand_on(self) -> None:
        """Give the request whose body is held to uvicorn's path, with what came so far."""
        body, self.held = bytes(self.held or b""), None
        self.cycle_with(body)

    def cycle_with(self, body: bytes) -> None:
        self.start_cycle()
        self.cycle.body += body
        self.cycle.message_event.set()

    def answer_at_once(self, body: bytes) -> bool:
        """Write the shortcut's answer, complete as uvicorn completes a response; whether it
        had one."""
        assert self.shortcut is not None
        keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
        try:
            answered = self.shortcut.answer(self.headers, body)
            if answered is None:
                return False
            lines, content = answered
            head = response_head(self.server_state.default_headers, lines, keep_alive=keep_alive)
        except Exception:  # a bug past the point of no return (counted): a 500, as uvicorn's
            log.exception("Exception answering POST /predict on the spot")
            self.transport.write(raw_response(500, "internal_error", UNEXPECTED))
            self.transport.close()
            return True
        self.pool.shortcuts += 1
        self.server_state.total_requests += 1
        self.transport.write(head + content)
        if keep_alive:
            self.rest_after_shortcut()
        else:
            self.transport.close()
        self.stage = ANSWERED  # a message begun after it in this read sets HEAD again
        self.disarm()  # so that message's head, if incomplete, gets a deadline of its own
        return True

    def rest_after_shortcut(self) -> None:
        """What uvicorn's `on_response_complete` does after an answer with no request behind
        it, but its keep-alive deadline is checked lazily: one timer per keep-alive period,
        not one made and cancelled per request (a timer handle, a heap push and a cancel)."""
        self.flow.resume_reading()
        self.idle_since = self.loop.time()
        if self.idle_deadline is None:
            self.idle_deadline = self.loop.call_later(
                self.pool.policy.keepalive_timeout, self.idle_due
            )
        self.pool.rest(self)

    def idle_due(self) -> None:
        """Close the connection when idle for the keep-alive timeout since its last answer on
        the spot; look again when that time comes. A request in flight (or an answer on
        uvicorn's path, which arms uvicorn's own timer) leaves the connection open."""
        self.idle_deadline = None
        if self.idle_since is None:
            return
        remaining = self.idle_since + self.pool.policy.keepalive_timeout - self.loop.time()
        if remaining > 0:
            self.idle_deadline = self.loop.call_later(remaining, self.idle_due)
        else:
            self.timeout_keep_alive_handler()

    def on_response_complete(self) -> None:
        idle = not self.pipeline
        super().on_response_complete()
        if idle:  # a closing connection leaves the pool in connection_lost
            if self.stage == RUNNING:
                self.stage = HEAD  # uvicorn's keep-alive timer runs until the next byte
            self.pool.rest(self)

    # deadlines and refusals
    def arm(self, stage: str) -> None:
        """Start the deadline of `stage` unless it runs already."""
        if self.deadline_stage == stage:
            return
        self.disarm()
        policy = self.pool.policy
        seconds = policy.header_timeout if stage == HEAD else policy.body_timeout
        self.deadline = self.loop.call_later(seconds, self.expire, stage)
        self.deadline_stage = stage

    def disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline, self.deadline_stage = None, ""

    def expire(self, stage: str) -> None:
        self.deadline, self.deadline_stage = None, ""
        policy = self.pool.policy
        if stage == HEAD:
            message = f"the request head did not arrive within {policy.header_timeout:g} s"
            self.refuse(408, "header_timeout", message)
        else:
            self.close("body_timeout")

    def refuse(self, status: int, reason: str, message: str) -> None:
        """Answer `status` with a JSON error (no request runs), then linger and close."""
        if self.cycle is not None and not self.cycle.response_complete:
            self.close(reason)  # an earlier request of this connection is being answered
            return
        self.pool.leave(self, reason)
        self.stage = REFUSED
        self.disarm()
        self.transport.write(raw_response(status, reason, message))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.deadline = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def close(self, reason: str) -> None:
        self.pool.leave(self, reason)
        self.transport.close()

    def head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def too_large(self) -> str:
        limit = self.pool.policy.max_header_bytes
        return f"the request line and headers exceed {limit} bytes: send smaller headers"


def response_head(defaults: Headers, lines: bytes, *, keep_alive: bool) -> bytes:
    """The head of a 200 answer: the server's `defaults` (date, server), then `lines`; byte
    for byte what uvicorn's request cycle writes for the same headers."""
    closing = b"" if keep_alive else b"connection: close\r\n"
    return b"".join((STATUS_LINE[200], default_lines(defaults), lines, closing, b"\r\n"))


def header_lines(headers: Headers) -> bytes:
    """`headers` as uvicorn writes them (lower-case names); a value it would refuse raises,
    as there."""
    content = []
    for name, value in headers:
        if HEADER_VALUE_RE.search(value):
            raise RuntimeError("Invalid HTTP header value.")
        content.extend([name.lower(), b": ", value, b"\r\n"])
    return b"".join(content)


_DEFAULTS: list[tuple[Headers, bytes]] = [([], b"")]  # uvicorn's list of this second, its lines


def default_lines(defaults: Headers) -> bytes:
    """The lines of the server's default headers, joined once per list (uvicorn makes a new
    one each second, for the date)."""
    last = _DEFAULTS[0]
    if last[0] is defaults:
        return last[1]
    lines = header_lines(defaults)
    _DEFAULTS[0] = (defaults, lines)
    return lines


def raw_response(status: int, code: str, message: str) -> bytes:
    body = json.dumps({"error": code, "message": message}).encode()
    head = (
        b"content-type: application/json\r\nconnection: close\r\n"
        b"content-length: %d\r\n\r\n" % len(body)
    )
    return STATUS_LINE[status] + head + body


class Outbox:
    """What the connections of one event loop wrote during the loop's current pass: sent at
    the end of the pass, one `write` (one send() system call) per connection.

    On loopback a send() does the receiving side's TCP work and wakes the client's thread on
    its core; sent one by one between answers, each send woke a sleeping client (33 us of CPU
    per send under wrk at 64 connections, a fifth of a text request). Sent together, one
    wake serves the whole pass's answers (~10 us per send, ~30 answers per pass). An answer
    waits at most for the rest of its pass; an idle server's pass holds one answer."""

    __slots__ = ("loop", "waiting")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: list[Batched] = []

    def hold(self, connection: Batched) -> None:
        if not self.waiting:
            self.loop.call_soon(self.send)  # runs after every callback of this pass
        self.waiting.append(connection)

    def send(self) -> None:
        waiting, self.waiting = self.waiting, []
        for connection in waiting:
            try:
                connection.flush()
            except Exception:  # one broken connection must not keep the others' answers
                log.exception("Exception sending a connection's answers")
                connection.transport.abort()


class Batched:
    """A connection's transport whose writes wait in the loop's `Outbox` until the end of
    the pass; anything that ends or reorders the stream (close, write_eof, another protocol)
    sends what waits first, so bytes leave in the order written. Everything else is the
    transport's own."""

    __slots__ = ("chunks", "outbox", "transport")

    def __init__(self, transport: asyncio.Transport, outbox: Outbox) -> None:
        self.transport = transport
        self.outbox = outbox
        self.chunks: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self.chunks:
            self.outbox.hold(self)
        self.chunks.append(bytes(data))  # a copy of a buffer the writer may reuse

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        if not self.chunks:
            return
        data = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
        self.chunks = []
        if not self.transport.is_closing():  # a lost connection's answer has no reader
            self.transport.write(data)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self.transport.set_protocol(protocol)

    def abort(self) -> None:
        self.chunks = []
        self.transport.abort()

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + sum(map(len, self.chunks))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def refusal_app(status: int, code: str, message: str) -> Any:
    """An ASGI app answering `status` and closing: for a head refused after it was parsed."""
    body = json.dumps({"error": code, "message": message}).encode()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def closed_counter(registry: CollectorRegistry) -> Counter:
    return Counter(
        "hotswap_inference_connections_closed_total",
        "Connections the server closed by a limit, by server and reason "
        "(header_too_large, header_timeout, body_timeout, evicted, overloaded).",
        ["server", "reason"],
        registry=registry,
    )


def protocol_factory(pool: Pool, shortcut: Shortcut | None = None) -> type[Protocol]:
    """What uvicorn calls to make each connection's `Protocol`, bound to one server's pool
    and, on the serving port, its shortcut. A factory rather than a subclass made per server:
    a class compiled by mypyc (`setup.py`) cannot be subclassed at run time."""
    # uvicorn takes a class, and only calls it with keywords: a partial serves
    return cast("type[Protocol]", functools.partial(Protocol, pool=pool, shortcut=shortcut))


def file_budget(wanted: int) -> int:
    """`wanted` connections, fewer when the process may not open that many files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - RESERVED_FILES))
