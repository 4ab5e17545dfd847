"""Headless Chromium (Debian's `chromium`, installed by `make system-deps`) on loopback pages.

Each call is one short-lived browser with a fresh profile: it loads the page, lets its scripts
run for a virtual-time budget (timers fire, fetches complete), then dumps the DOM or saves a
screenshot. No network beyond the page's own loopback origin: background services are off.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

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
)


def run_chromium(url: str, *actions: str, budget_ms: int) -> str:
    """Chromium on `url` with `actions` (e.g. --dump-dom); its stdout."""
    assert url.startswith("http://127.0.0.1:"), f"expected a loopback page, got {url}"
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make system-deps`"
    with tempfile.TemporaryDirectory(prefix="hotswap-chromium-") as profile:
        command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
                   f"--virtual-time-budget={budget_ms}", *actions, url]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, f"chromium exited {result.returncode}:\n{result.stderr[-2000:]}"
    return result.stdout


def dump_dom(url: str, *, budget_ms: int = 5000) -> str:
    return run_chromium(url, "--dump-dom", budget_ms=budget_ms)


def screenshot(url: str, path: Path, *, size: str = "1280,720", budget_ms: int = 4000) -> Path:
    run_chromium(url, f"--window-size={size}", f"--screenshot={path}", budget_ms=budget_ms)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return path


def keep(path: Path, folder: Path) -> Path:
    """Copy an artefact to a git-ignored folder (e.g. bench/results) and return the copy."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(path, folder / path.name))


class Page(HTMLParser):
    """What a dumped DOM shows: text by element id, data-* attributes of the traffic rows."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "source"})
    CELLS = ("requests", "errors", "p50", "p99")

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
