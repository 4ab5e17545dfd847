"""Settings of one inference process: from `HOTSWAP_*` environment variables, then flags.

Every field has an environment variable (`HOTSWAP_<FIELD>` upper-cased) and a flag of
`hotswap serve` (`--<field>` with dashes); a flag wins over the environment.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotswap.store import buckets
from hotswap.store.errors import InvalidName

DEFAULT_ROOT = ".hotswap/models"
MIN_FEEDBACK_KEY_CHARS = 16


class SettingsError(ValueError):
    """A setting with a value that cannot work; the message names the variable and the fix."""


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1 << 20
    max_batch: int = 256
    max_text_chars: int = 10_000


@dataclass(frozen=True)
class Settings:
    model_root: Path = Path(DEFAULT_ROOT)  # the volume, or with `store` a local cache
    store: str | None = None  # s3://<bucket>[/<prefix>]: versions and routing in a bucket
    model: str = "intent"
    host: str = "127.0.0.1"
    port: int = 8000
    admin_port: int = 8001
    metrics_port: int = 9189
    reload_token: str | None = None
    reload_token_file: Path | None = None
    poll_interval: float = 2.0
    limits: Limits = field(default_factory=Limits)
    api_keys: tuple[str, ...] = ()
    api_keys_file: Path | None = None
    rate_limit: float = 0.0  # requests per second per client; 0 turns the limit off
    rate_burst: int = 20
    # connections and clients (connections.py, guarding.py; docs/inference.md "Limits")
    max_header_bytes: int = 65_536  # request line and headers
    header_timeout: float = 10.0  # seconds to receive a request head
    body_timeout: float = 30.0  # seconds to receive a body once its head is in
    keepalive_timeout: float = 5.0  # seconds an idle keep-alive connection stays open
    max_connections: int = 1000  # open connections on the serving port
    trusted_proxies: tuple[str, ...] = ()  # addresses whose X-Forwarded-For is believed
    key_failures_per_minute: int = 10  # wrong API keys per client address; 0 is no limit
    query_log_file: Path | None = None
    query_log_stdout: bool = True
    mirror_queue: int = 256
    retry_failed_seconds: float = 30.0
    slow_seconds: float = 0.25  # an answer slower than this counts as slow (rollout analysis)
    feedback_key: str | None = None
    feedback_key_file: Path | None = None
    feedback_ttl_seconds: float = 3600.0  # how long after a prediction its feedback counts

    def token(self) -> str | None:
        """The reload token: the file's content (re-read, so a rotated Secret applies) or env."""
        return read_secret(self.reload_token, self.reload_token_file)

    def feedback_secret(self) -> str | None:
        """The key feedback tokens are signed with, read as the reload token is."""
        return read_secret(self.feedback_key, self.feedback_key_file)

    def keys(self) -> tuple[str, ...]:
        """API keys for the serving endpoints: the file's lines (no blanks, no '#'), plus env."""
        found = list(self.api_keys)
        if self.api_keys_file is not None:
            lines = self.api_keys_file.read_text().splitlines()
            found += [s.strip() for s in lines if s.strip() and not s.strip().startswith("#")]
        return tuple(found)


FIELDS: dict[str, type] = {
    "model_root": Path,
    "store": str,
    "model": str,
    "host": str,
    "port": int,
    "admin_port": int,
    "metrics_port": int,
    "reload_token": str,
    "reload_token_file": Path,
    "poll_interval": float,
    "max_body_bytes": int,
    "max_batch": int,
    "max_text_chars": int,
    "api_keys": tuple,
    "api_keys_file": Path,
    "rate_limit": float,
    "rate_burst": int,
    "max_header_bytes": int,
    "header_timeout": float,
    "body_timeout": float,
    "keepalive_timeout": float,
    "max_connections": int,
    "trusted_proxies": tuple,
    "key_failures_per_minute": int,
    "query_log_file": Path,
    "query_log_stdout": bool,
    "mirror_queue": int,
    "retry_failed_seconds": float,
    "slow_seconds": float,
    "feedback_key": str,
    "feedback_key_file": Path,
    "feedback_ttl_seconds": float,
}
LIMIT_FIELDS = ("max_body_bytes", "max_batch", "max_text_chars")


def read_secret(value: str | None, path: Path | None) -> str | None:
    """The file's content (re-read on each call, so a rotated Secret applies), else `value`."""
    if path is not None:
        return path.read_text().strip() or None
    return value or None


SERVER_PORTS = ("port", "admin_port", "metrics_port")


def env_name(name: str) -> str:
    return "HOTSWAP_" + name.upper()


def load_settings(
    overrides: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from `environ` (default `os.environ`), then `overrides` (flags; None = unset)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, kind in FIELDS.items():
        if env.get(env_name(name), "") != "":
            values[name] = convert_value(name, env[env_name(name)], kind)
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = value
    return build_settings(values)


def convert_value(name: str, raw: str, kind: type) -> Any:
    try:
        if kind is bool:
            return parse_bool(raw)
        if kind is tuple:
            return split_list(raw)
        return kind(raw)
    except ValueError as exc:
        raise SettingsError(f"{env_name(name)}={raw!r} is not a valid {kind.__name__}") from exc


def split_list(raw: str) -> tuple[str, ...]:
    """A comma-separated value (API keys, trusted proxies): its non-blank items."""
    return tuple(s.strip() for s in raw.split(",") if s.strip())


def parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{raw!r} is not a boolean: use true or false")


def build_settings(values: dict[str, Any]) -> Settings:
    limits = Limits(**{k: values.pop(k) for k in LIMIT_FIELDS if k in values})
    settings = Settings(limits=limits, **values)
    check_settings(settings)
    return settings


def check_settings(settings: Settings) -> None:
    positive = dataclasses.asdict(settings.limits) | {
        name: getattr(settings, name)
        for name in ("poll_interval", "slow_seconds", "feedback_ttl_seconds")
    }
    for name, value in positive.items():
        if value <= 0:
            raise SettingsError(f"{env_name(name)} must be positive, got {value}")
    check_ports(settings)
    if settings.feedback_key and len(settings.feedback_key) < MIN_FEEDBACK_KEY_CHARS:
        raise SettingsError(
            f"HOTSWAP_FEEDBACK_KEY is shorter than {MIN_FEEDBACK_KEY_CHARS} characters: use a "
            "long random string, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if settings.rate_limit < 0 or settings.rate_burst < 1:
        raise SettingsError("HOTSWAP_RATE_LIMIT must be >= 0 and HOTSWAP_RATE_BURST >= 1")
    check_connections(settings)
    check_store(settings.store)


def check_ports(settings: Settings) -> None:
    """Each port in range, and the three servers' ports distinct (0, any free port, aside):
    two servers on one port would leave the second unable to bind."""
    ports = {env_name(name): getattr(settings, name) for name in SERVER_PORTS}
    for name, port in ports.items():
        if not 0 <= port <= 65535:
            raise SettingsError(f"{name} must be a TCP port 0-65535")
    for port in set(ports.values()) - {0}:
        sharing = [name for name, value in ports.items() if value == port]
        if len(sharing) > 1:
            raise SettingsError(
                f"{' and '.join(sharing)} are both {port}: give each server its own port"
            )


def check_store(store: str | None) -> None:
    if store is None:
        return
    try:
        buckets.StoreUri.parse(store)
    except InvalidName as exc:
        raise SettingsError(f"HOTSWAP_STORE: {exc}") from exc


CONNECTION_FIELDS = (
    "max_header_bytes",
    "header_timeout",
    "body_timeout",
    "keepalive_timeout",
    "max_connections",
)


def check_connections(settings: Settings) -> None:
    for name in CONNECTION_FIELDS:
        if getattr(settings, name) <= 0:
            raise SettingsError(f"{env_name(name)} must be positive, got {getattr(settings, name)}")
    if settings.key_failures_per_minute < 0:
        raise SettingsError("HOTSWAP_KEY_FAILURES_PER_MINUTE must be >= 0 (0 turns it off)")
    for proxy in settings.trusted_proxies:
        if proxy != "*" and not is_network(proxy):
            raise SettingsError(
                f"HOTSWAP_TRUSTED_PROXIES holds {proxy!r}: give IP addresses or networks "
                "(10.0.0.0/8), comma-separated, or '*' for any"
            )


def is_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True
