"""A throwaway HTTP server on loopback for unit tests of clients (stdlib `http.server`)."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[tuple[str, int]]:
    """`handler` answering on 127.0.0.1 at a free port, in a thread, until the block ends:
    (host, port)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class Quiet(http.server.BaseHTTPRequestHandler):
    """A handler that logs nothing (the base class writes every request to stderr)."""

    def log_message(self, *_: object) -> None:
        pass
