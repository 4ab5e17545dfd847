"""A minimal Chrome DevTools Protocol client over a stdlib WebSocket (RFC 6455), loopback only.

Enough for the e2e tests: connect to one page's debugger URL, send commands, read their
results (events are skipped). Client frames are masked; server frames may be fragmented.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import urllib.parse
from typing import Any

TEXT, CLOSE, PING = 0x1, 0x8, 0x9


class DevTools:
    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        parsed = urllib.parse.urlsplit(url)
        assert parsed.hostname == "127.0.0.1", f"expected a loopback debugger, got {url}"
        self.sock = socket.create_connection((parsed.hostname, parsed.port or 80), timeout)
        self.reader = self.sock.makefile("rb")
        self.next_id = 0
        self.handshake(parsed.path, f"{parsed.hostname}:{parsed.port}")

    def handshake(self, path: str, host: str) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        status = self.reader.readline()
        assert b" 101 " in status, f"expected 101 Switching Protocols, got {status!r}"
        while self.reader.readline() not in (b"\r\n", b""):
            pass

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its `result`; a protocol error raises naming it."""
        self.next_id += 1
        self.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.receive())
            if message.get("id") == self.next_id:
                assert "error" not in message, f"{method}: {message['error']}"
                result: dict[str, Any] = message["result"]
                return result

    def send(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x80 | TEXT, 0x80 | size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x80 | TEXT, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x80 | TEXT, 0x80 | 127, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def receive(self) -> str:
        """The next whole text message (continuation frames joined; pings skipped)."""
        parts: list[bytes] = []
        while True:
            final, opcode, payload = self.read_frame()
            assert opcode != CLOSE, "the browser closed the DevTools connection"
            if opcode != PING:
                parts.append(payload)
            if final and opcode != PING:
                return b"".join(parts).decode()

    def read_frame(self) -> tuple[bool, int, bytes]:
        first, second = self.read_exactly(2)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self.read_exactly(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self.read_exactly(8))[0]
        return bool(first & 0x80), first & 0x0F, self.read_exactly(size)

    def read_exactly(self, size: int) -> bytes:
        data = self.reader.read(size)
        assert len(data) == size, f"DevTools connection ended: {len(data)} of {size} bytes"
        return data

    def close(self) -> None:
        self.reader.close()
        self.sock.close()
