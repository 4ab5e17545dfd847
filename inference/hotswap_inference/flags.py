"""Command-line flags of `hotswap serve` and `python -m hotswap_inference`.

Each flag overrides its `HOTSWAP_*` environment variable; an unset flag leaves the variable
(or the default) in force. The reload token and the feedback key are never flags: they would
show in `ps`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hotswap_inference import settings

FLAGS: list[tuple[str, Callable[[str], Any], str]] = [
    ("model_root", Path, "model volume root (env HOTSWAP_MODEL_ROOT, default .hotswap/models)"),
    ("model", str, "model name to serve (default intent)"),
    ("store", str, "s3://<bucket>[/<prefix>]: load from object storage into --model-root"),
    ("host", str, "address to listen on (default 127.0.0.1; containers pass 0.0.0.0)"),
    ("port", int, "serving port (default 8000)"),
    ("admin_port", int, "admin port: reload and status (default 8001)"),
    ("metrics_port", int, "Prometheus metrics port (default 9189)"),
    ("reload_token_file", Path, "file holding the admin bearer token"),
    ("poll_interval", float, "seconds between reads of routing.json (default 2)"),
    ("max_body_bytes", int, "largest request body (default 1 MiB)"),
    ("max_batch", int, "most inputs per request (default 256)"),
    ("max_text_chars", int, "longest text input (default 10000)"),
    ("api_keys_file", Path, "file of API keys, one per line; turns key checks on"),
    ("rate_limit", float, "requests per second per client; 0 is off (default)"),
    ("rate_burst", int, "burst size of the rate limit (default 20)"),
    ("max_header_bytes", int, "largest request line and headers (default 65536)"),
    ("header_timeout", float, "seconds to receive a request head (default 10)"),
    ("body_timeout", float, "seconds to receive a body after its head (default 30)"),
    ("keepalive_timeout", float, "seconds an idle keep-alive connection stays (default 5)"),
    ("max_connections", int, "open connections on the serving port (default 1000)"),
    ("trusted_proxies", settings.split_list, "proxies whose X-Forwarded-For counts (default none)"),
    ("key_failures_per_minute", int, "wrong API keys per client address (default 10; 0 off)"),
    ("query_log_file", Path, "also append the query log to this file"),
    ("slow_seconds", float, "answers slower than this count as slow (default 0.25)"),
    ("feedback_key_file", Path, "file holding the feedback token key all pods share"),
    ("feedback_ttl_seconds", float, "seconds a feedback token stays valid (default 3600)"),
]


def add_flags(parser: argparse.ArgumentParser, *, root: bool = True) -> None:
    """All flags; `root=False` leaves out `--root`/`--model-root` (the CLI adds its own)."""
    for name, kind, help_text in FLAGS[0 if root else 1 :]:
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, dest=name, type=kind, default=None, help=help_text)
    if root:
        parser.add_argument("--root", dest="model_root", type=Path, help="alias of --model-root")
    parser.add_argument(
        "--no-query-log-stdout",
        dest="query_log_stdout",
        action="store_false",
        default=None,
        help="do not print the query log to stdout",
    )


def settings_from_args(args: argparse.Namespace) -> settings.Settings:
    names = [name for name, _, _ in FLAGS] + ["query_log_stdout"]
    overrides: dict[str, Any] = {name: getattr(args, name, None) for name in names}
    overrides["model_root"] = overrides["model_root"] or getattr(args, "root", None)
    return settings.load_settings(overrides)
