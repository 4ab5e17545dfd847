"""`bench/fastpath.py --in-process N`: the measure docs/fastpath.md iterates with keeps working."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "fastpath.py"


def test_in_process_drives_the_shortcut_and_the_asgi_path_and_prints_each() -> None:
    """Both drives raise unless every answer is a 200; the protocol one also unless every
    request was answered on the spot, as a `POST /predict` is on a real serving port."""
    done = subprocess.run(
        [sys.executable, str(BENCH), "--in-process", "50"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = dict(re.findall(r"in-process \((\w+)\): 50 requests, ([\d.]+) us", done.stdout))
    assert set(found) == {"protocol", "asgi"}, done.stdout
    assert all(float(value) > 0 for value in found.values()), found
