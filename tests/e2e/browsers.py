"""Headless Chromium (Debian's `chromium`, installed by `make system-deps`) on loopback pages.

`opened(url)` starts one browser with a fresh profile on the page and drives it over the
DevTools protocol (`devtools.py`), in real time: the page's timers and fetches run as they
would for a user. No network beyond the page's own loopback origin: background services are
off, the debugger listens on 127.0.0.1 only, and the browser is stopped at the end.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from . import devtools

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-proxy-server",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


class Tab:
    """The page Chromium opened, through its DevTools connection."""

    def __init__(self, tools: devtools.DevTools) -> None:
        self.tools = tools

    def evaluate(self, expression: str) -> Any:
        answer = self.tools.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return answer["result"].get("value")

    def wait_until(self, expression: str, *, timeout: float = 20.0) -> bool:
        """Evaluate until truthy or the timeout; whether it became true (callers assert)."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression) and time.monotonic() < deadline:
            time.sleep(0.2)
        return bool(self.evaluate(expression))

    def html(self) -> str:
        return str(self.evaluate("document.documentElement.outerHTML"))

    def screenshot(self, path: Path) -> Path:
        data = self.tools.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
        return path


@contextlib.contextmanager
def opened(url: str, *, size: str = "1280,720") -> Iterator[Tab]:
    assert url.startswith("http://127.0.0.1:"), f"expected a loopback page, got {url}"
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make system-deps`"
    with tempfile.TemporaryDirectory(
        prefix="hotswap-chromium-", ignore_cleanup_errors=True
    ) as scratch:
        profile = Path(scratch)
        command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}", url]
        with (profile / "chromium.log").open("wb") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            tools = devtools.DevTools(page_debugger(profile, process))
            try:
                yield Tab(tools)
            finally:
                tools.close()
        finally:
            stop_browser(process)


def page_debugger(profile: Path, process: subprocess.Popen[bytes]) -> str:
    """The page's DevTools WebSocket URL, once Chromium wrote its port to the profile."""
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not active.exists() or not active.read_text().strip():
        log = (profile / "chromium.log").read_text(errors="replace")[-2000:]
        assert process.poll() is None, f"chromium exited {process.returncode}:\n{log}"
        assert time.monotonic() < deadline, f"chromium wrote no DevTools port in 30s:\n{log}"
        time.sleep(0.1)
    port = int(active.read_text().split()[0])
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
        targets = json.loads(answer.read())
    pages = [t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page"]
    assert pages, f"expected a page target, chromium lists {targets}"
    return str(pages[0])


def stop_browser(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the browser's own process group (its renderers), SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def keep(path: Path, folder: Path) -> Path:
    """Copy an artefact to a git-ignored folder (e.g. bench/results) and return the copy."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(path, folder / path.name))


class Page(HTMLParser):
    """What a dumped DOM shows: text by element id, data-* attributes of the traffic rows."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "source"})
    CELLS = ("requests", "rate", "errors", "p50", "p99")

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: dict[str, str] = {}
        self.body: dict[str, str] = {}
        self.rows: list[dict[str, str]] = []
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of the open elements
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "body":
            self.body = found
        if tag == "tr" and "data-version" in found:
            self.rows.append({"version": found["data-version"], "arm": found["data-arm"]})
        kind = [c for c in found.get("class", "").split() if c in self.CELLS]
        if tag == "td" and kind and self.rows:
            self.rows[-1][kind[0]] = found["data-value"]
        if tag not in self.VOID:
            self._open.append((tag, found.get("id")))
            self.text.setdefault(found.get("id") or "", "")

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        ids = [element_id for _, element_id in self._open if element_id]
        if ids:
            self.text[ids[-1]] += data.strip()

    def row(self, version: str, arm: str) -> dict[str, str]:
        rows = [r for r in self.rows if (r["version"], r["arm"]) == (version, arm)]
        assert rows, f"expected a traffic row for {version} {arm}, the page shows {self.rows}"
        return rows[0]
